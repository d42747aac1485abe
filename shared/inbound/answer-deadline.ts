export type Raced<T> = { inTime: true; value: T } | { inTime: false };

/**
 * The time a platform's request (a Slack click, command or event, a Teams invoke) has to be answered in, counted from
 * when it arrived. Every wait on the way to the answer goes through `race`, so no storage or platform call can hold
 * the answer past it.
 */
export class AnswerDeadline {
  constructor(
    readonly budgetMs: number,
    readonly receivedAt: number = Date.now(),
  ) {}

  /** Time left to answer (negative once it has passed). */
  remainingMs(): number {
    return this.receivedAt + this.budgetMs - Date.now();
  }

  /**
   * `work`'s value when it is ready by `withinMs` after the request arrived (by default, the whole budget); else
   * `inTime: false`, and `work` carries on (its failure is then the caller's to catch). A failure in time rejects.
   */
  async race<T>(work: Promise<T>, withinMs = this.budgetMs): Promise<Raced<T>> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Raced<T>>((resolve) => {
      timer = setTimeout(() => resolve({ inTime: false }), Math.max(0, this.receivedAt + withinMs - Date.now()));
    });
    try {
      return await Promise.race([work.then((value): Raced<T> => ({ inTime: true, value })), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
