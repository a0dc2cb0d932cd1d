import type { RunPlan } from './tasks/types.js';

/**
 * Estimates the time left in a suite from the runs' relative costs. Costs of different
 * tasks are not comparable, so each task's seconds-per-cost is measured on its own and
 * a task not started yet borrows the rate measured so far over all tasks.
 */
export class SuiteEta {
  private readonly spent = new Map<string, { cost: number; seconds: number }>();
  private readonly remaining = new Map<string, number>();
  private readonly total: number;
  private done = 0;

  constructor(plans: RunPlan[]) {
    for (const p of plans) this.remaining.set(p.task, (this.remaining.get(p.task) ?? 0) + p.cost);
    this.total = plans.reduce((a, p) => a + p.cost, 0);
  }

  /** Records a finished run. */
  finish(plan: RunPlan, seconds: number): void {
    const s = this.spent.get(plan.task) ?? { cost: 0, seconds: 0 };
    this.spent.set(plan.task, { cost: s.cost + plan.cost, seconds: s.seconds + seconds });
    this.remaining.set(plan.task, (this.remaining.get(plan.task) ?? 0) - plan.cost);
    this.done += plan.cost;
  }

  /** Fraction of the suite's cost done, counting `fraction` of the current run. */
  fraction(current?: RunPlan, fraction = 0): number {
    if (this.total <= 0) return 1;
    return Math.min(1, (this.done + (current ? current.cost * fraction : 0)) / this.total);
  }

  /** Seconds left, or undefined before anything can be measured. */
  eta(current?: RunPlan, fraction = 0, currentSeconds = 0): number | undefined {
    const rate = (task: string): number | undefined => {
      const s = this.spent.get(task);
      const partial = current?.task === task && fraction > 0 ? { cost: current.cost * fraction, seconds: currentSeconds } : { cost: 0, seconds: 0 };
      const cost = (s?.cost ?? 0) + partial.cost;
      return cost > 0 ? ((s?.seconds ?? 0) + partial.seconds) / cost : undefined;
    };
    let allCost = 0;
    let allSeconds = 0;
    for (const s of this.spent.values()) {
      allCost += s.cost;
      allSeconds += s.seconds;
    }
    if (current && fraction > 0) {
      allCost += current.cost * fraction;
      allSeconds += currentSeconds;
    }
    const fallback = allCost > 0 ? allSeconds / allCost : undefined;
    let left = 0;
    for (const [task, cost] of this.remaining) {
      const pending = cost - (current?.task === task ? current.cost * fraction : 0);
      if (pending <= 0) continue;
      const r = rate(task) ?? fallback;
      if (r === undefined) return undefined;
      left += pending * r;
    }
    return left;
  }

  /**
   * For runs that proceed side by side (queue workers): the fraction of the suite done,
   * counting each running run's fraction, and the seconds left, from the rates of the
   * finished runs, with the work left spread over the runs now running.
   */
  parallel(running: { plan: RunPlan; fraction: number }[]): { fraction: number; eta?: number } {
    const inFlight = new Map<string, number>();
    for (const r of running) inFlight.set(r.plan.task, (inFlight.get(r.plan.task) ?? 0) + r.plan.cost * r.fraction);
    const doneCost = this.done + [...inFlight.values()].reduce((a, c) => a + c, 0);
    const fraction = this.total > 0 ? Math.min(1, doneCost / this.total) : 1;
    let allCost = 0;
    let allSeconds = 0;
    for (const s of this.spent.values()) {
      allCost += s.cost;
      allSeconds += s.seconds;
    }
    if (allCost <= 0) return { fraction };
    let left = 0;
    for (const [task, cost] of this.remaining) {
      const s = this.spent.get(task);
      const rate = s && s.cost > 0 ? s.seconds / s.cost : allSeconds / allCost;
      left += Math.max(0, cost - (inFlight.get(task) ?? 0)) * rate;
    }
    return { fraction, eta: left / Math.max(1, running.length) };
  }
}
