// Reads a few top-level fields of a JSON object straight from its UTF-8 bytes, without building the whole object: the
// sink only needs the event time and the field partitions of each record to place it, and parsing every record in
// full costs more than the rest of placing it. The scan also checks the text is one object with balanced brackets and
// closed strings; anything else is for the writer (DuckDB) to refuse.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

/** Index just past the string whose opening quote is at `start`, or -1 when it does not close. */
function skipString(bytes: Uint8Array, start: number): number {
  for (let i = start + 1; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === BACKSLASH) i++;
    else if (b === QUOTE) return i + 1;
  }
  return -1;
}

/** The JSON value in bytes[start, end) as JavaScript: strings, numbers, booleans and null cheaply, the rest by JSON.parse. */
function decodeValue(bytes: Uint8Array, start: number, end: number): unknown {
  const first = bytes[start];
  if (first === QUOTE) {
    // Without escapes the text between the quotes is the string; ASCII needs no UTF-8 decoding.
    let plain = true;
    let ascii = true;
    for (let i = start + 1; i < end - 1; i++) {
      const b = bytes[i]!;
      if (b === BACKSLASH) plain = false;
      else if (b >= 0x80) ascii = false;
    }
    if (plain) {
      // A Buffer slices to a string directly; a view and a TextDecoder call cost more than the decoding at this size.
      if (Buffer.isBuffer(bytes)) return bytes.toString(ascii ? 'latin1' : 'utf8', start + 1, end - 1);
      return (ascii ? latin1 : utf8).decode(bytes.subarray(start + 1, end - 1));
    }
  }
  const text = Buffer.isBuffer(bytes) ? bytes.toString('utf8', start, end) : utf8.decode(bytes.subarray(start, end));
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null') return null;
  if (first !== QUOTE && first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    // Not a number either: the text itself, which no reader of the field accepts.
    const n = Number(text);
    return Number.isNaN(n) ? text : n;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * A reader of the named top-level fields of a JSON object given as bytes: their values (a field that appears twice
 * keeps its last value, as JSON.parse does), absent fields left out; null when the bytes are not one JSON object.
 */
export function topLevelFieldReader(names: readonly string[]): (bytes: Uint8Array) => Record<string, unknown> | null {
  const wanted: [string, Buffer][] = names.map((n) => [n, Buffer.from(JSON.stringify(n).slice(1, -1), 'utf8')]);
  return (bytes) => readFields(bytes, wanted);
}

function sameBytes(bytes: Uint8Array, at: number, raw: Buffer): boolean {
  for (let k = 0; k < raw.length; k++) if (bytes[at + k] !== raw[k]) return false;
  return true;
}

function readFields(bytes: Uint8Array, wanted: readonly [string, Buffer][]): Record<string, unknown> | null {
  const out: Record<string, unknown> = {};
  let i = 0;
  const n = bytes.length;
  while (i < n && isSpace(bytes[i]!)) i++;
  if (bytes[i] !== OPEN_BRACE) return null;
  i++;
  for (;;) {
    while (i < n && isSpace(bytes[i]!)) i++;
    if (bytes[i] === CLOSE_BRACE) {
      i++;
      break;
    }
    if (bytes[i] !== QUOTE) return null;
    const keyStart = i + 1;
    const keyEnd = skipString(bytes, i);
    if (keyEnd === -1) return null;
    let match: string | null = null;
    for (const [name, raw] of wanted) {
      if (keyEnd - 1 - keyStart === raw.length && sameBytes(bytes, keyStart, raw)) {
        match = name;
        break;
      }
    }
    i = keyEnd;
    while (i < n && isSpace(bytes[i]!)) i++;
    if (bytes[i] !== COLON) return null;
    i++;
    while (i < n && isSpace(bytes[i]!)) i++;
    // The value: a string, or anything up to the comma or brace that ends it at this depth.
    const valueStart = i;
    let depth = 0;
    for (; i < n; i++) {
      const b = bytes[i]!;
      if (b === QUOTE) {
        const end = skipString(bytes, i);
        if (end === -1) return null;
        i = end - 1;
      } else if (b === OPEN_BRACE || b === OPEN_BRACKET) depth++;
      else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        if (depth === 0) break;
        depth--;
      } else if (b === COMMA && depth === 0) break;
    }
    if (i >= n || depth !== 0) return null;
    let valueEnd = i;
    while (valueEnd > valueStart && isSpace(bytes[valueEnd - 1]!)) valueEnd--;
    if (valueEnd === valueStart) return null;
    if (match !== null) out[match] = decodeValue(bytes, valueStart, valueEnd);
    if (bytes[i] === COMMA) {
      i++;
      continue;
    }
    if (bytes[i] !== CLOSE_BRACE) return null;
    i++;
    break;
  }
  while (i < n && isSpace(bytes[i]!)) i++;
  return i === n ? out : null;
}
