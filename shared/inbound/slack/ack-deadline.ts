import { AnswerDeadline } from "../answer-deadline";

/** Slack gives up after 3 s; answering by 2.5 s leaves room for the network and a busy instance. */
export const SLACK_ACK_WITHIN_MS = 2_500;

/** A Slack request's (click, slash command, event) time to be answered in. */
export class AckDeadline extends AnswerDeadline {
  constructor(receivedAt: number = Date.now()) {
    super(SLACK_ACK_WITHIN_MS, receivedAt);
  }
}
