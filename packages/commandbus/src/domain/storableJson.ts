/**
 * What a command may carry: plain JSON that the command item in DynamoDB can hold exactly. Every
 * value the bus stores (data, results, operator result data, error details) passes this one check,
 * so a value accepted at the door can never make a later write fail on its content.
 *
 * The limits are DynamoDB's and the AWS SDK marshaller's, measured against DynamoDB Local 3.3:
 * - an attribute nests at most 32 levels; our deepest placement (an audit event's details inside the
 *   events list) puts a value 3 levels down, so values nest at most {@link MAX_JSON_DEPTH} levels;
 * - numbers: the SDK marshaller refuses magnitudes above Number.MAX_SAFE_INTEGER, DynamoDB refuses
 *   non-zero magnitudes below 1e-130;
 * - map keys: not empty (DynamoDB: "Empty attribute name"), at most {@link MAX_KEY_BYTES} bytes, and
 *   not `__proto__` (the marshaller copies maps into plain objects, where that key is lost);
 * - strings and keys: well-formed Unicode (a lone surrogate has no UTF-8 form).
 */

/** Deepest nesting of objects and arrays in a stored value (a scalar is depth 0). */
export const MAX_JSON_DEPTH = 28;
/** Longest map key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 32 * 1024;
/** Smallest non-zero magnitude DynamoDB stores. */
export const MIN_NUMBER_MAGNITUDE = 1e-130;

export interface JsonProblem {
  /** Where, e.g. `data.items[2].price` or `data["my key"]`. */
  path: string;
  message: string;
}

/**
 * The first reason `value` cannot be stored, or undefined when it can. Iterative, so a value nested
 * thousands of levels deep is refused with a message instead of overflowing the stack.
 */
export function findUnstorable(value: unknown, field: string): JsonProblem | undefined {
  // Depth-first, children in key order, so the first offender in reading order is named.
  const stack: { value: unknown; path: string; depth: number; exit?: object }[] = [{ value, path: field, depth: 0 }];
  const open = new Set<object>();
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.exit) {
      open.delete(frame.exit);
      continue;
    }
    const problem = checkScalar(frame.value);
    if (problem !== undefined) return { path: frame.path, message: problem };
    const current = frame.value;
    if (typeof current !== 'object' || current === null) continue;
    if (open.has(current)) return { path: frame.path, message: 'is a circular reference' };
    if (frame.depth >= MAX_JSON_DEPTH) {
      return { path: frame.path, message: `nests deeper than ${MAX_JSON_DEPTH} levels of objects and arrays (DynamoDB stores at most 32 levels)` };
    }
    open.add(current);
    stack.push({ value: undefined, path: frame.path, depth: frame.depth, exit: current });
    const children: { value: unknown; path: string; depth: number }[] = [];
    if (Array.isArray(current)) {
      for (let i = 0; i < current.length; i++) children.push({ value: current[i], path: `${frame.path}[${i}]`, depth: frame.depth + 1 });
    } else {
      const proto = Object.getPrototypeOf(current) as { constructor?: { name?: string } } | null;
      if (proto !== Object.prototype && proto !== null) {
        return { path: frame.path, message: `is a ${proto?.constructor?.name ?? 'non-plain object'}, not a plain JSON object` };
      }
      for (const key of Object.keys(current)) {
        const path = `${frame.path}${keySegment(key)}`;
        const keyProblem = checkKey(key);
        if (keyProblem !== undefined) return { path, message: keyProblem };
        children.push({ value: (current as Record<string, unknown>)[key], path, depth: frame.depth + 1 });
      }
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return undefined;
}

function checkScalar(value: unknown): string | undefined {
  switch (typeof value) {
    case 'boolean':
      return undefined;
    case 'string':
      return value.isWellFormed() ? undefined : 'is not well-formed Unicode (it holds a lone surrogate, which has no UTF-8 form)';
    case 'number':
      return checkNumber(value);
    case 'object':
      return undefined;
    case 'undefined':
      return 'is undefined, which is not JSON';
    default:
      return `is a ${typeof value}, which is not JSON`;
  }
}

function checkNumber(value: number): string | undefined {
  if (!Number.isFinite(value)) return `is ${value}, which JSON cannot represent`;
  const magnitude = Math.abs(value);
  if (magnitude > Number.MAX_SAFE_INTEGER) {
    return `is ${value}, beyond ±${Number.MAX_SAFE_INTEGER}, the largest magnitude stored exactly; send it as a string`;
  }
  if (magnitude !== 0 && magnitude < MIN_NUMBER_MAGNITUDE) {
    return `is ${value}, closer to 0 than DynamoDB stores (1e-130); send it as a string`;
  }
  return undefined;
}

function checkKey(key: string): string | undefined {
  if (key.length === 0) return 'has an empty key, which DynamoDB cannot store';
  if (key === '__proto__') return "has the key '__proto__', which cannot be stored safely";
  if (!key.isWellFormed()) return 'has a key that is not well-formed Unicode (a lone surrogate)';
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `has a key longer than ${MAX_KEY_BYTES} bytes`;
  return undefined;
}

/** `.name` for identifier-like keys, `["…"]` for anything else, so every path reads unambiguously. */
function keySegment(key: string): string {
  if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) return `.${key}`;
  const shown = key.length > 40 ? `${key.slice(0, 40)}…` : key;
  return `[${JSON.stringify(shown.toWellFormed())}]`;
}

/** Text that came from outside (error messages, codes) made safe to store and to send through SQS. */
export function wellFormedText(text: string): string {
  return text.toWellFormed();
}
