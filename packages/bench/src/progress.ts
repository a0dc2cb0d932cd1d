import type { RunPlan, RunResult, RunTick } from './tasks/types.js';

export type BenchEvent =
  | { type: 'suite-start'; suite: string; preset: string; backend: string; outDir: string; total: number; toRun: number }
  | { type: 'run-skip'; plan: RunPlan; index: number; total: number }
  /** `where`: the queue worker that took the run (host#pid); local runs have none. */
  | { type: 'run-start'; plan: RunPlan; index: number; total: number; where?: string }
  | {
      type: 'run-progress';
      plan: RunPlan;
      index: number;
      total: number;
      tick: RunTick;
      /** Seconds left in this run, once it can be estimated. */
      runEta?: number;
      /** Fraction of the suite's work done in this session, 0..1. */
      suiteFraction: number;
      suiteEta?: number;
    }
  | { type: 'run-end'; plan: RunPlan; index: number; total: number; result: RunResult }
  | { type: 'run-fail'; plan: RunPlan; index: number; total: number; error: string }
  | {
      type: 'queue-progress';
      /** Runs with a result (collected now or earlier), failed runs, runs still waiting for a worker. */
      done: number;
      failed: number;
      waiting: number;
      total: number;
      running: { plan: RunPlan; index: number; where: string; tick?: RunTick; runEta?: number }[];
      suiteFraction: number;
      suiteEta?: number;
    }
  | { type: 'suite-end'; outDir: string; seconds: number; ran: number; skipped: number };

/** m:ss or h:mm:ss. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

const num = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3));

function label(plan: RunPlan): string {
  const setting = Object.entries(plan.setting)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return `${plan.benchmark} ${plan.model}${setting ? ` ${setting}` : ''}`;
}

/** One progress line: run, step, loss, run ETA, then the suite's share done and its ETA. */
export function formatProgress(e: Extract<BenchEvent, { type: 'run-progress' }>): string {
  const t = e.tick;
  const parts = [`[${e.index + 1}/${e.total}] ${label(e.plan)}`, `step ${t.step}/${t.steps}`];
  if (t.loss !== undefined) parts.push(`loss ${num(t.loss)}`);
  if (t.valLoss !== undefined) parts.push(`val ${num(t.valLoss)}`);
  if (t.note) parts.push(t.note);
  if (e.runEta !== undefined) parts.push(`ETA ${formatDuration(e.runEta)}`);
  const suite = `suite ${Math.round(e.suiteFraction * 100)}%${e.suiteEta !== undefined ? ` ETA ${formatDuration(e.suiteEta)}` : ''}`;
  return `${parts.join('  ')}  | ${suite}`;
}

/** One line for a queued suite: counts, each running run with its worker and step, then the suite's ETA. */
function formatQueueProgress(e: Extract<BenchEvent, { type: 'queue-progress' }>): string {
  const counts = [`${e.done}/${e.total} done`, ...(e.failed ? [`${e.failed} failed`] : []), `${e.waiting} waiting`];
  const running = e.running.map((r) => {
    const step = r.tick ? ` step ${r.tick.step}/${r.tick.steps}${r.tick.loss !== undefined ? ` loss ${num(r.tick.loss)}` : ''}` : '';
    return `${label(r.plan)} on ${r.where}${step}${r.runEta !== undefined ? ` ETA ${formatDuration(r.runEta)}` : ''}`;
  });
  const suite = `suite ${Math.round(e.suiteFraction * 100)}%${e.suiteEta !== undefined ? ` ETA ${formatDuration(e.suiteEta)}` : ''}`;
  return `queue: ${counts.join(', ')}${running.length ? `; running ${running.join('; ')}` : ''}  | ${suite}`;
}

export function formatEvent(e: BenchEvent): string | undefined {
  switch (e.type) {
    case 'suite-start':
      return `suite ${e.suite}, preset ${e.preset}, backend ${e.backend}: ${e.toRun} of ${e.total} runs to do, results in ${e.outDir}`;
    case 'run-skip':
      return `[${e.index + 1}/${e.total}] ${label(e.plan)}  finished earlier, skipped`;
    case 'run-start':
      return e.where ? `[${e.index + 1}/${e.total}] ${label(e.plan)}  started on ${e.where}` : undefined;
    case 'run-progress':
      return formatProgress(e);
    case 'run-end': {
      const [first] = Object.entries(e.result.metrics);
      const metric = first ? `  ${first[0]} ${first[1] === null ? '-' : num(first[1])}` : '';
      return `[${e.index + 1}/${e.total}] ${label(e.plan)}  done in ${formatDuration(e.result.seconds)}${metric}  params ${e.result.paramCount}`;
    }
    case 'run-fail':
      return `[${e.index + 1}/${e.total}] ${e.plan.id} failed: ${e.error}`;
    case 'queue-progress':
      return formatQueueProgress(e);
    case 'suite-end':
      return `suite done in ${formatDuration(e.seconds)}: ${e.ran} run(s), ${e.skipped} skipped`;
  }
}

/**
 * Prints progress to a stream (stderr by default, so stdout stays clean for --json).
 * On a terminal the progress line is rewritten in place; elsewhere it is printed at
 * most every `intervalMs`, and every start, end and skip always gets its own line.
 */
export function consoleProgress(options: { stream?: NodeJS.WriteStream; intervalMs?: number } = {}): (e: BenchEvent) => void {
  const stream = options.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  const interval = options.intervalMs ?? (tty ? 200 : 10_000);
  let last = 0;
  let open = false;
  return (e) => {
    const line = formatEvent(e);
    if (line === undefined) return;
    if (e.type === 'run-progress' || e.type === 'queue-progress') {
      const t = Date.now();
      if (t - last < interval) return;
      last = t;
      if (tty) {
        stream.write(`\r\x1b[K${line}`);
        open = true;
        return;
      }
    }
    stream.write(`${open ? '\r\x1b[K' : ''}${line}\n`);
    open = false;
  };
}
