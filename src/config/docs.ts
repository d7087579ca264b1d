// The settings table of docs/configuration.md, rendered from SETTINGS: type, default in human units, allowed values, meaning.
import { SETTINGS } from './model.ts';

type Setting = (typeof SETTINGS)[number];

/** What a setting accepts, in the words its validation errors use, without the unit examples the page explains once. */
export function allowedValues(s: Setting): string {
  // No setting accepts a symbol, so this always takes the path that says what is allowed.
  const r = s.parse(Symbol('describe'));
  if (r.ok) throw new Error(`${s.key} accepts anything; its parser cannot describe it`);
  return r.allowed.replace(/ \(a number[^)]*\)/, '');
}

/** The kind of value, read from the start of the allowed-values text; null when the text is of a new kind. */
export function settingType(s: Setting): string | null {
  const allowed = allowedValues(s);
  if (allowed.startsWith('an integer')) return 'integer';
  if (allowed.startsWith('a duration')) return 'duration';
  if (allowed.startsWith('a size')) return 'size';
  if (allowed === 'true or false') return 'boolean';
  if (allowed.startsWith('a list of host:port')) return 'list of host:port';
  if (allowed.startsWith('"always"')) return 'fsync policy';
  if (allowed.startsWith('a list of field names')) return 'list of field names';
  if (allowed.startsWith('one of ')) return 'choice';
  if (allowed.startsWith('a host name') || allowed.startsWith('a directory') || allowed.startsWith('letters') || allowed.startsWith('"default"') || allowed.startsWith('an IANA') || allowed.startsWith('a size such as') || allowed.startsWith('a SQLite') || allowed.startsWith('a name of')) return 'string';
  return null;
}

const DURATION_UNITS: [string, number][] = [['d', 86_400_000], ['h', 3_600_000], ['min', 60_000], ['s', 1000]];
const SIZE_UNITS: [string, number][] = [['TiB', 1024 ** 4], ['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]];

/** A default as it would be written in oxbow.config.ts (`literal`, which the setting's parser accepts), with a note for people. */
export type DocDefault = { literal: string; note?: string };

/** Milliseconds in the largest unit that divides them exactly ("7d", "10min", "250ms"). */
export function formatDuration(ms: number): DocDefault {
  if (ms === -1) return { literal: '-1', note: 'forever' };
  const unit = ms === 0 ? undefined : DURATION_UNITS.find(([, f]) => ms % f === 0);
  return { literal: unit ? `${ms / unit[1]}${unit[0]}` : ms === 0 ? '0' : `${ms}ms` };
}

/** Bytes in the largest binary unit that divides them exactly ("1GiB"); other sizes in bytes, with an approximation. */
export function formatSize(bytes: number): DocDefault {
  if (bytes === -1) return { literal: '-1', note: 'unlimited' };
  const unit = SIZE_UNITS.find(([, f]) => bytes % f === 0);
  if (unit) return { literal: `${bytes / unit[1]}${unit[0]}` };
  const near = SIZE_UNITS.find(([, f]) => bytes >= f);
  return near ? { literal: String(bytes), note: `≈${(bytes / near[1]).toFixed(1)} ${near[0]}` } : { literal: String(bytes) };
}

/** The default in human units. */
export function formatDefault(s: Setting): DocDefault {
  const v = s.default;
  switch (settingType(s)) {
    case 'duration':
      return formatDuration(v as number);
    case 'size':
      return formatSize(v as number);
    case 'list of host:port':
    case 'list of field names':
      return (v as string[]).length === 0 ? { literal: '[]', note: 'none' } : { literal: JSON.stringify(v) };
    default:
      return v === '' ? { literal: '""' } : { literal: String(v) };
  }
}

/** The default cell of the table: the literal in backticks, then the note in parentheses. */
export function defaultCell(d: DocDefault): string {
  return d.note === undefined ? `\`${d.literal}\`` : `\`${d.literal}\` (${d.note})`;
}

/** Reads a default cell's literal back into the value it stands for in oxbow.config.ts ("" and [] are JSON). */
export function parseDefaultLiteral(literal: string): unknown {
  return literal.startsWith('"') || literal.startsWith('[') ? JSON.parse(literal) : literal;
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/** The Markdown table of every setting, one row each in SETTINGS order. */
export function settingsTable(): string {
  const rows = SETTINGS.map((s) => {
    const type = settingType(s);
    if (type === null) throw new Error(`${s.key}: no type for values described as "${allowedValues(s)}"; add one to settingType`);
    return `| \`${s.key}\` | ${type} | ${cell(defaultCell(formatDefault(s)))} | ${cell(allowedValues(s))} | ${cell(s.doc)} |`;
  });
  return ['| setting | type | default | allowed values | meaning |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}
