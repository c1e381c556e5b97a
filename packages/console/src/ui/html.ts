/** Preact with htm: components written as tagged templates, no JSX step. */
export { html } from 'htm/preact';
