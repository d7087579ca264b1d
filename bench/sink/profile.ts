// Summary of a V8 .cpuprofile written by --cpu-prof: where the main thread spent its own (self) time, by function
// and by package or source folder. DuckDB's worker threads are not in it; waiting for them shows as (idle).
import { readFileSync } from 'node:fs';
import path from 'node:path';

type CallFrame = { functionName: string; url: string; lineNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame };
type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

export type SelfTime = { name: string; ms: number; share: number };
export type ProfileSummary = { file: string; totalMs: number; functions: SelfTime[]; places: SelfTime[] };

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Where a script is: `@platformatic/kafka`, `src/sink`, `node:internal/…`; empty for V8's own entries. */
function place(url: string): string {
  if (url === '') return '';
  const local = url.startsWith('file://') ? url.slice('file://'.length) : url;
  const nm = local.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = local.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (local.startsWith(ROOT)) return path.dirname(path.relative(ROOT, local));
  return local.startsWith('node:') ? local.split('/').slice(0, 2).join('/') : local;
}

function top(map: Map<string, number>, totalMs: number, n: number): SelfTime[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, ms]) => ({ name, ms, share: ms / totalMs }));
}

/** The `n` functions and places with the most self time in `file`. */
export function summarizeProfile(file: string, n = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const functions = new Map<string, number>();
  const places = new Map<string, number>();
  let totalMs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const frame = byId.get(profile.samples[i]!);
    // A sample's time is the gap to the next one; V8 stores each gap with the sample that ends it.
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    if (frame === undefined) continue;
    totalMs += ms;
    const where = place(frame.url);
    const fn = `${frame.functionName || '(anonymous)'}${where === '' ? '' : ` ${where}/${path.basename(frame.url)}:${frame.lineNumber + 1}`}`;
    functions.set(fn, (functions.get(fn) ?? 0) + ms);
    const p = where === '' ? frame.functionName : where;
    places.set(p, (places.get(p) ?? 0) + ms);
  }
  return { file, totalMs, functions: top(functions, totalMs, n), places: top(places, totalMs, n) };
}
