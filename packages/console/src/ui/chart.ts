/** A time-series chart (uPlot, bundled): one x axis of times, one line per series. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { html } from './html.ts';

export interface ChartSeries {
  label: string;
  colour: string;
  values: (number | null)[];
}

export function TimeChart({ title, unit, times, series }: { title: string; unit: string; times: number[]; series: ChartSeries[] }) {
  const target = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!target.current) return;
    const chart = new uPlot(
      {
        width: Math.min(720, target.current.clientWidth || 720),
        height: 220,
        series: [{}, ...series.map((line) => ({ label: line.label, stroke: line.colour, width: 2, spanGaps: false }))],
        axes: [{}, { label: unit, size: 60 }],
        legend: { live: false },
      },
      [times, ...series.map((line) => line.values)] as uPlot.AlignedData,
      target.current,
    );
    return () => chart.destroy();
  }, [times, series, unit]);
  return html`<figure><figcaption>${title}</figcaption><div ref=${target} role="img" aria-label=${`${title} (${unit})`}></div></figure>`;
}
