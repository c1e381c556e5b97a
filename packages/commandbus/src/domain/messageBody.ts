/**
 * JSON for SQS message bodies. SQS accepts only #x9, #xA, #xD, #x20–#xD7FF, #xE000–#xFFFD and
 * #x10000–#x10FFFF; the embedded emulator also refuses everything above #xFFFD. JSON.stringify
 * already escapes control characters and lone surrogates, so escaping U+FFFE, U+FFFF and every
 * surrogate (the halves of characters beyond the BMP, e.g. emoji) makes any JSON value a body that
 * local and AWS queues both accept, and that decodes to the same value.
 */
const REFUSED_BY_SOME_QUEUE = /[\uD800-\uDFFF\uFFFE\uFFFF]/g;

export function encodeJson(value: unknown): string {
  return escapeForSqs(JSON.stringify(value));
}

/** Escapes the characters a queue may refuse; valid only on JSON text (they can occur only inside strings). */
export function escapeForSqs(json: string): string {
  return json.replace(REFUSED_BY_SOME_QUEUE, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
