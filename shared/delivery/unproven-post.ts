import type { DeliveryRepository, DeliveryRow } from "../storage/deliveries";

/** What is posted, as a delivery row's decision and reason name it: in full ("release notice") and short ("notice"). */
export interface PostedThing {
  name: string;
  short: string;
}

/**
 * The "exactly once" rule's limit (README): after an attempt whose outcome is unknown, at most one post is made
 * without proof that the earlier one did not land, and it is counted on the delivery row before it is made.
 * One guard per taken row and attempt; it also words what the row records about such posts.
 */
export class UnprovenPosts {
  /** Posts made without proof on this row so far, this attempt's included. */
  #count: number;

  constructor(
    private readonly deliveries: DeliveryRepository,
    /** The row's partition: the alert's (or the release notice's) id. */
    private readonly partition: string,
    private readonly row: Pick<DeliveryRow, "targetKey" | "reposted">,
    private readonly thing: PostedThing,
  ) {
    this.#count = row.reposted;
  }

  /** Counts the post about to be made without proof on the row; false (the post must not be made) when one was made already. */
  readonly beforePost = async (): Promise<boolean> => {
    if (this.#count >= 1) return false;
    await this.deliveries.update(this.partition, this.row.targetKey, { reposted: this.#count + 1 });
    this.#count++;
    return true;
  };

  /** The row's decision for a sent post: `posted` says how it went when nothing was unconfirmed. */
  sentDecision(posted: string, { adopted = false }: { adopted?: boolean } = {}): string {
    if (adopted) return `found the ${this.thing.name} an attempt that got no answer had posted`;
    return this.#count > this.row.reposted ? `${posted} again after an attempt that got no answer (may be a duplicate)` : posted;
  }

  /** The dead row's reason when the post was withheld: one was already made without proof. */
  withheldReason(why: string): string {
    return `unconfirmed: ${why}; already posted again once, not posting a third time (the ${this.thing.short} may be there)`;
  }
}
