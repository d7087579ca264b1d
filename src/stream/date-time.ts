// The JSON Schema formats date, time and date-time (RFC 3339 §5.6, as ajv-formats' full mode reads it), checked by
// walking the string's character codes. They accept exactly what ajv-formats accepts (a test compares the two on
// generated strings) without its split, regular expressions and match arrays: on records with a timestamp field the
// date-time check was a noticeable part of validating each record, and it runs twice, once per schema.

const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const WHITESPACE = /^\s$/;

/** The value of the decimal digit at s[i], or -1 when it is not one of 0-9. */
function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

/** The two-digit number at s[i], s[i + 1], or -1. */
function twoDigits(s: string, i: number): number {
  const a = digit(s, i);
  const b = digit(s, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/** full-date "YYYY-MM-DD" in s[from, to), with a month of 1-12 and a day that exists in that month. */
function isDateIn(s: string, from: number, to: number): boolean {
  if (to - from !== 10 || s.charCodeAt(from + 4) !== 45 || s.charCodeAt(from + 7) !== 45) return false;
  const century = twoDigits(s, from);
  const yy = twoDigits(s, from + 2);
  const month = twoDigits(s, from + 5);
  const day = twoDigits(s, from + 8);
  if (century < 0 || yy < 0 || month < 1 || month > 12 || day < 1) return false;
  return day <= (month === 2 && isLeapYear(century * 100 + yy) ? 29 : DAYS_IN_MONTH[month]!);
}

/**
 * "HH:MM:SS[.frac](Z|±HH[[:]MM])" in s[from, end): hours ≤ 23, minutes ≤ 59, seconds < 60, or 60 for a leap second
 * at 23:59 UTC. The offset is required when `strictTimeZone` (the `time` and `date-time` formats).
 */
function isTimeFrom(s: string, from: number, strictTimeZone: boolean): boolean {
  const end = s.length;
  if (end - from < 8 || s.charCodeAt(from + 2) !== 58 || s.charCodeAt(from + 5) !== 58) return false;
  const hr = twoDigits(s, from);
  const min = twoDigits(s, from + 3);
  let sec = twoDigits(s, from + 6);
  if (hr < 0 || min < 0 || sec < 0) return false;
  let i = from + 8;
  if (i < end && s.charCodeAt(i) === 46) {
    const fractionStart = ++i;
    while (i < end && digit(s, i) >= 0) i++;
    if (i === fractionStart) return false;
    // As a number, like the reference: a long enough fraction rounds 59.999… up to 60.
    sec = Number(s.slice(from + 6, i));
  }
  let tzSign = 1;
  let tzH = 0;
  let tzM = 0;
  let zone = false;
  if (i < end) {
    const c = s.charCodeAt(i);
    if (c === 90 || c === 122) {
      if (i + 1 !== end) return false;
    } else if (c === 43 || c === 45) {
      tzSign = c === 45 ? -1 : 1;
      tzH = twoDigits(s, i + 1);
      if (tzH < 0) return false;
      i += 3;
      if (i < end) {
        if (s.charCodeAt(i) === 58) i++;
        tzM = twoDigits(s, i);
        if (tzM < 0 || i + 2 !== end) return false;
      }
    } else {
      return false;
    }
    zone = true;
  }
  if (tzH > 23 || tzM > 59 || (strictTimeZone && !zone)) return false;
  if (hr <= 23 && min <= 59 && sec < 60) return true;
  // A leap second: 23:59:60 in UTC.
  const utcMin = min - tzM * tzSign;
  const utcHr = hr - tzH * tzSign - (utcMin < 0 ? 1 : 0);
  return (utcHr === 23 || utcHr === -1) && (utcMin === 59 || utcMin === -1) && sec < 61;
}

export function isDate(s: string): boolean {
  return isDateIn(s, 0, s.length);
}

export function isTime(s: string): boolean {
  return isTimeFrom(s, 0, true);
}

/** date-time: a full-date, then "T", "t" or one whitespace character, then a time with its offset. */
export function isDateTime(s: string): boolean {
  if (s.length < 11 || !isDateIn(s, 0, 10)) return false;
  const sep = s.charCodeAt(10);
  if (sep !== 84 && sep !== 116 && !WHITESPACE.test(s[10]!)) return false;
  return isTimeFrom(s, 11, true);
}
