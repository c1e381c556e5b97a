/**
 * The operator console as a person uses it, in real Chromium (Debian's, driven by playwright-core):
 * its server in front of the deployed shape's HTTP API, signed in with the one-time link. Screenshots
 * go to docs/console/ when CONSOLE_SCREENSHOTS=1 (npm run screenshots).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { CommandBusClient } from '@commandbus/client';
import { CommandStatus } from '@commandbus/core';
import { ensureUiBuilt, startConsoleServer, type ConsoleServer } from '@commandbus/console';
import { createScenario, target, type Scenario } from '../support/fixtures.ts';

const where = target();
const CHROMIUM = '/usr/bin/chromium';
const shots = process.env.CONSOLE_SCREENSHOTS === '1' ? new URL('../../docs/console/', import.meta.url).pathname : undefined;

if (where.kind !== 'api' || where.auth.type !== 'bearer') {
  it.skip(`NOT RUN: the console suite needs the local runtime's bearer token (target: ${where.kind === 'api' ? where.where : where.kind})`, () => {});
} else if (!existsSync(CHROMIUM) && process.env.CI !== 'true') {
  it.skip(`NOT RUN: no ${CHROMIUM} (apt-get install -y chromium; CI installs it and runs this suite)`, () => {});
} else {
  const { apiUrl, auth } = where;
  let s: Scenario;
  let browser: Browser;
  let operatorConsole: ConsoleServer;
  let viewerConsole: ConsoleServer | undefined;
  const errors: string[] = [];

  /** One browser profile per console, signed in once with its one-time link. */
  const contexts = new Map<ConsoleServer, BrowserContext>();
  const open = async (server: ConsoleServer): Promise<Page> => {
    let context = contexts.get(server);
    const first = context === undefined;
    if (!context) {
      context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      contexts.set(server, context);
    }
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`${page.url()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(first ? server.url : server.origin);
    return page;
  };
  // playwright-core has no test runner's matchers: wait on conditions with vitest's poll instead.
  const visible = (locator: Locator) => locator.waitFor({ state: 'visible', timeout: 15_000 });
  const textOf = (locator: Locator) => expect.poll(async () => (await locator.textContent()) ?? '', { timeout: 15_000 });
  const countOf = (locator: Locator) => expect.poll(() => locator.count(), { timeout: 15_000 });
  const shoot = async (page: Page, name: string) => {
    if (!shots) return;
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: `${shots}${name}.png`, fullPage: true });
  };

  beforeAll(async () => {
    s = await createScenario();
    const staticDir = await ensureUiBuilt();
    operatorConsole = await startConsoleServer({
      client: new CommandBusClient({ baseUrl: apiUrl, auth }),
      target: 'the e2e local runtime',
      domains: ['test'],
      staticDir,
    });
    const viewer = where.scoped?.viewer;
    if (viewer) {
      viewerConsole = await startConsoleServer({
        client: new CommandBusClient({ baseUrl: apiUrl, auth: viewer.auth }),
        target: 'the e2e local runtime (viewer)',
        domains: ['test'],
        staticDir,
      });
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await operatorConsole?.stop();
    await viewerConsole?.stop();
    await s?.cleanup();
  });

  describe('operator console (Chromium)', () => {
    it('signs a browser in once with the printed link; without it nothing is served', async () => {
      const page = await open(operatorConsole);
      await visible(page.getByRole('heading', { name: 'Dashboard: test' }));
      const again = await fetch(operatorConsole.url);
      expect(again.status).toBe(403);
      const anonymous = await fetch(`${operatorConsole.origin}/api/commands?domain=test`, { headers: { 'x-commandbus-console': '1' } });
      expect(anonymous.status).toBe(401);
      // Signed in, a path that is not valid percent-encoding is a 400, not a server error.
      expect((await page.request.get(`${operatorConsole.origin}/%E0%A4%A`)).status()).toBe(400);
      // An API call without the console's header (a cross-site form) is refused.
      expect((await page.request.get(`${operatorConsole.origin}/api/commands?domain=test`)).status()).toBe(403);
      await page.close();
    });

    it('sends a mix, shows the parked ones grouped by cause, retries a fixed group in bulk and sees them complete', async () => {
      const page = await open(operatorConsole);
      await page.getByRole('link', { name: 'Send' }).click();
      await page.getByLabel('success').fill('2');
      await page.getByLabel('fail_permanent', { exact: true }).fill('2');
      await page.getByLabel('fail_transient', { exact: true }).fill('0');
      await page.getByLabel('fail_transient_then_succeed').fill('1');
      await page.getByRole('button', { name: 'Send the mix' }).click();
      await textOf(page.getByRole('status')).toContain('Sent 5 commands');
      await shoot(page, 'send');

      // A downstream outage, then fixed: commands whose behaviour record fails until it is changed.
      const errorCode = `UI_${randomUUID().slice(0, 6).toUpperCase()}`;
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      for (const commandId of ids) {
        await s.behaviours.create(commandId, { type: 'fail_permanent', error_code: errorCode });
        await s.send({ commandId, data: { order: commandId.slice(0, 8) } });
      }
      await Promise.all(ids.map((commandId) => s.waitForStatus(commandId, CommandStatus.IN_TSQ)));

      await page.getByRole('link', { name: 'Dashboard' }).click();
      await expect.poll(async () => Number(await page.getByTestId('tsq-depth').textContent()), { timeout: 20_000 }).toBeGreaterThanOrEqual(5);
      await visible(page.getByRole('link', { name: errorCode }));
      await textOf(page.getByTestId('tsq-oldest')).toMatch(/^\d+ (s|min|h|d)$/);
      // The last hour's charts, from the stream's aggregates: our commands show up within seconds.
      await textOf(page.getByTestId('stats-totals')).toMatch(/Last hour: [1-9]\d* sent/);
      await countOf(page.locator('figure .uplot')).toBe(2);
      await shoot(page, 'dashboard');

      await page.getByRole('link', { name: 'Troubleshooting queue' }).click();
      await page.getByRole('button', { name: `Show group ${errorCode}` }).click();
      await countOf(page.getByRole('checkbox', { name: /^Select [0-9a-f-]{36}$/ })).toBe(3);
      await shoot(page, 'tsq');
      for (const commandId of ids) await s.behaviours.update(commandId, { type: 'success' });
      await page.getByRole('checkbox', { name: 'Select all shown' }).check();
      await page.getByRole('button', { name: 'Retry selected' }).click();
      await textOf(page.getByRole('status')).toContain('retry: 3 done, 0 skipped');
      await Promise.all(ids.map((commandId) => s.waitForCompletion(commandId)));

      await page.goto(`${operatorConsole.origin}/#/command/test/${ids[0]}`);
      await textOf(page.getByTestId('command-status')).toBe('COMPLETED');
      await textOf(page.getByRole('list', { name: 'audit trail' })).toContain('OPERATOR_RETRY');
      await page.close();
    });

    it('edits a payload and retries it, and shows before and after in the timeline; cancels another with a reason', async () => {
      const page = await open(operatorConsole);
      const editId = randomUUID();
      const cancelId = randomUUID();
      const errorCode = `UI_EDIT_${randomUUID().slice(0, 6).toUpperCase()}`;
      // Parked as a schema would park it: the details list the fields to correct.
      const issues = { issues: [{ path: 'data.amount', message: 'Too small: expected number to be >0' }], moreIssues: 2 };
      await s.send({ commandId: editId, data: { amount: -5, behavior: { type: 'fail_permanent', error_code: errorCode, error_details: issues } } });
      await s.send({ commandId: cancelId, data: { amount: -7, behavior: { type: 'fail_permanent', error_code: errorCode } } });
      await s.waitForStatus(editId, CommandStatus.IN_TSQ);
      await s.waitForStatus(cancelId, CommandStatus.IN_TSQ);

      await page.goto(`${operatorConsole.origin}/#/tsq?domain=test&errorCode=${errorCode}`);
      await page.getByRole('button', { name: `Edit and retry ${editId}` }).click();
      const why = page.getByRole('region', { name: 'why it was parked' });
      await textOf(why).toContain(errorCode);
      await textOf(why.getByRole('list', { name: 'payload issues' })).toContain('data.amount Too small: expected number to be >0');
      await textOf(why.getByRole('list', { name: 'payload issues' })).toContain('and 2 more');
      await page.getByLabel('Corrected payload (JSON object)').fill('{ "amount": 5 }');
      await textOf(page.getByLabel('payload after')).toContain('"amount": 5');
      await shoot(page, 'edit-and-retry');
      await page.getByRole('button', { name: 'Retry with this payload' }).click();
      await textOf(page.getByRole('status')).toContain(`Retried ${editId}`);
      await s.waitForCompletion(editId);

      await page.getByRole('checkbox', { name: `Select ${cancelId}` }).check();
      await page.getByLabel('Reason').fill('duplicate order');
      await page.getByRole('button', { name: 'Cancel selected' }).click();
      await textOf(page.getByRole('status')).toContain('cancel: 1 done');
      expect((await s.getCommand(cancelId))?.status).toBe(CommandStatus.CANCELLED);

      await page.goto(`${operatorConsole.origin}/#/command/test/${editId}`);
      await textOf(page.getByTestId('command-status')).toBe('COMPLETED');
      await visible(page.getByRole('region', { name: 'edit 1' }));
      await textOf(page.getByLabel('payload before').first()).toContain('"amount": -5');
      await textOf(page.getByLabel('payload after').first()).toContain('"amount": 5');
      await shoot(page, 'command');
      await page.close();
    });

    it('runs a filter as an operator job: dry run with the exact count, started at a rate, progress to the end', async () => {
      const errorCode = `UI_JOB_${randomUUID().slice(0, 6).toUpperCase()}`;
      const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      for (const commandId of ids) await s.send({ commandId, data: { behavior: { type: 'fail_permanent', error_code: errorCode } } });
      await Promise.all(ids.map((commandId) => s.waitForStatus(commandId, CommandStatus.IN_TSQ)));

      const page = await open(operatorConsole);
      await page.goto(`${operatorConsole.origin}/#/tsq?domain=test&errorCode=${errorCode}`);
      await countOf(page.getByRole('checkbox', { name: /^Select [0-9a-f-]{36}$/ })).toBe(4);
      await page.getByLabel('Action').selectOption('cancel');
      await page.getByLabel('Reason').fill('whole batch');
      await page.getByLabel('Rate (commands/s)').fill('25');
      await page.getByRole('button', { name: 'Dry run' }).click();
      await textOf(page.getByTestId('dry-run')).toContain('4 commands match');
      await shoot(page, 'job-dry-run');
      await page.getByRole('button', { name: 'Start job' }).click();
      await expect
        .poll(async () => Promise.all(ids.map(async (commandId) => (await s.getCommand(commandId))?.status)), { timeout: 30_000 })
        .toEqual(ids.map(() => CommandStatus.CANCELLED));
      // Its row (other suites run jobs in this runtime too: this one is the cancel at 25/s).
      const row = page.locator('tr', { hasText: '25/s' }).filter({ hasText: 'cancel' });
      await textOf(row.getByTestId('job-progress')).toContain('4 done, 0 skipped, 0 failed of 4');
      await textOf(row.getByTestId('job-status')).toBe('COMPLETED');
      await page.close();
    });

    it('shows a viewer what it may not do: no action buttons, and says why', async () => {
      if (!viewerConsole) throw new Error('the e2e-api runtime provides a viewer token');
      const page = await open(viewerConsole);
      await page.goto(`${viewerConsole.origin}/#/tsq?domain=test`);
      await textOf(page.getByTestId('read-only')).toContain('your credentials are read-only');
      await countOf(page.getByRole('button', { name: 'Retry selected' })).toBe(0);
      await countOf(page.getByRole('button', { name: /^Edit and retry/ })).toBe(0);
      await page.goto(`${viewerConsole.origin}/#/send?domain=test`);
      await visible(page.getByText('may not send commands'));
      await page.close();
    });

    it('acts with SigV4 when it fronts a stack: the signing proxy signs every call, the audit records the signing identity', async () => {
      const signer = where.signer;
      if (!signer) throw new Error('the e2e-api runtime accepts one SigV4 key pair');
      const signingConsole = await startConsoleServer({
        client: new CommandBusClient({
          baseUrl: apiUrl,
          auth: { type: 'sigv4', region: signer.region, credentials: { accessKeyId: signer.accessKeyId, secretAccessKey: signer.secretAccessKey } },
        }),
        target: 'the e2e local runtime (SigV4)',
        domains: ['test'],
        staticDir: await ensureUiBuilt(),
      });
      try {
        const commandId = randomUUID();
        await s.send({ commandId, data: { behavior: { type: 'fail_permanent', error_code: 'UI_SIGNED' } } });
        await s.waitForStatus(commandId, CommandStatus.IN_TSQ);
        const page = await open(signingConsole);
        await page.goto(`${signingConsole.origin}/#/tsq?domain=test&errorCode=UI_SIGNED`);
        await page.getByRole('checkbox', { name: `Select ${commandId}` }).check();
        await page.getByLabel('Reason').fill('signed by the proxy');
        await page.getByRole('button', { name: 'Cancel selected' }).click();
        await textOf(page.getByRole('status')).toContain('cancel: 1 done');
        const trail = await s.bus.getAuditTrail(commandId);
        expect(trail.at(-1)).toMatchObject({ eventType: 'OPERATOR_CANCEL', details: { operator: signer.operator, reason: 'signed by the proxy' } });
        await page.close();
      } finally {
        await signingConsole.stop();
      }
    });

    it('has no serious or critical accessibility violations on any page (axe-core), and every page works from the keyboard', async () => {
      const page = await open(operatorConsole);
      const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
      const commandId = randomUUID();
      await s.send({ commandId, data: { behavior: { type: 'fail_permanent', error_code: 'UI_A11Y' } } });
      await s.waitForStatus(commandId, CommandStatus.IN_TSQ);
      for (const route of [
        '/dashboard?domain=test',
        '/send?domain=test',
        '/commands?domain=test',
        '/tsq?domain=test&errorCode=UI_A11Y',
        `/command/test/${commandId}`,
      ]) {
        await page.goto(`${operatorConsole.origin}/#${route}`);
        await visible(page.getByRole('heading', { level: 1 }));
        await page.waitForLoadState('networkidle');
        // Evaluated through the debugger protocol: the console's CSP rightly refuses inline scripts.
        await page.evaluate(axeSource);
        const violations = (await page.evaluate(
          `axe.run().then((result) => result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id + ' ' + v.nodes.map((n) => n.target.join(' ')).join(', ')))`,
        )) as string[];
        expect(violations, route).toEqual([]);
        // axe did look: the page's controls passed its rules (labels, names, contrast…).
        expect(Number(await page.evaluate('axe.run().then((result) => result.passes.length)')), route).toBeGreaterThan(5);
      }
      // The keyboard reaches the pages' links from the top of the page.
      await page.goto(`${operatorConsole.origin}/#/dashboard?domain=test`);
      await visible(page.getByRole('heading', { level: 1 }));
      let reached = '';
      for (let tab = 0; tab < 6 && reached !== 'Troubleshooting queue'; tab++) {
        await page.keyboard.press('Tab');
        reached = String(await page.evaluate("document.activeElement ? document.activeElement.textContent : ''")).trim();
      }
      expect(reached).toBe('Troubleshooting queue');
      await page.keyboard.press('Enter');
      await visible(page.getByRole('heading', { name: 'Troubleshooting queue: test' }));
      await page.close();
    });

    it('logged no error in the browser console on any page', () => {
      expect(errors).toEqual([]);
    });
  });
}
