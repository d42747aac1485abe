// How the alerts handler tells, from the alert ids an issue remembers, a new alert from a repeat of one it took and
// from an alert that fires again after the issue was resolved (by its source's recovery or by a person).
import { describe, expect, it } from "vitest";
import { priorTake, rememberAlert, rememberFiringAgain, rememberRecovery, rememberResolvedByPerson } from "../../../shared/storage/issues";

const FIRING = "alertmanager:1a30ba71cca2921f:firing:2023-02-06T13:08:45.828Z";
const RECOVERY = "alertmanager:1a30ba71cca2921f:resolved:2023-02-06T13:20:00.000Z";
const LATER_RECOVERY = "alertmanager:1a30ba71cca2921f:resolved:2023-02-06T14:20:00.000Z";

const at = (iso: string) => new Date(iso);
const takenOnce = rememberAlert([], FIRING);

/** The firing taken again the way the alerts handler stores it. */
function takeAgain(recent: string[], insertedAt?: Date): { recent: string[]; takenAs: string } {
  const taken = priorTake(recent, FIRING, insertedAt);
  expect(taken.kind).toBe("fires-again");
  return { recent: rememberFiringAgain(recent, FIRING, taken.alertId), takenAs: taken.alertId };
}

describe("a firing its source sends again after a person resolved the issue", () => {
  it("fires again, under an id of its own; sent once more, it is a repeat of that firing", () => {
    const resolved = rememberResolvedByPerson(takenOnce, 4, at("2023-02-06T13:30:00Z"));
    const again = priorTake(resolved, FIRING);
    expect(again.kind).toBe("fires-again");
    expect(again.alertId).not.toBe(FIRING);

    const { recent, takenAs } = takeAgain(resolved);
    expect(priorTake(recent, FIRING)).toEqual({ kind: "repeat", alertId: takenAs });
  });

  it("each resolve by a person makes the next resend a firing of its own", () => {
    const first = takeAgain(rememberResolvedByPerson(takenOnce, 4, at("2023-02-06T13:30:00Z")));
    const second = takeAgain(rememberResolvedByPerson(first.recent, 7, at("2023-02-06T15:30:00Z")));
    expect(second.takenAs).not.toBe(first.takenAs);
    expect(priorTake(second.recent, FIRING)).toEqual({ kind: "repeat", alertId: second.takenAs });
  });

  it("a firing put on the queue before the person resolved is the same notification again: a repeat", () => {
    const resolved = rememberResolvedByPerson(takenOnce, 4, at("2023-02-06T13:30:00.400Z"));
    expect(priorTake(resolved, FIRING, at("2023-02-06T13:29:59Z"))).toEqual({ kind: "repeat", alertId: FIRING });
    expect(priorTake(resolved, FIRING, at("2023-02-06T13:31:00Z")).kind).toBe("fires-again");
  });

  it("a firing put on the queue in the second the person resolved is taken for one from before (queues tell whole seconds)", () => {
    const resolved = rememberResolvedByPerson(takenOnce, 4, at("2023-02-06T13:30:00.400Z"));
    expect(priorTake(resolved, FIRING, at("2023-02-06T13:30:00Z"))).toEqual({ kind: "repeat", alertId: FIRING });
    expect(priorTake(resolved, FIRING, at("2023-02-06T13:30:01Z")).kind).toBe("fires-again");
  });
});

describe("a firing delivered again by the queue after its recovery was taken (at 13:20:05)", () => {
  const recovered = rememberRecovery(takenOnce, RECOVERY, at("2023-02-06T13:20:05Z"));

  it("put on the queue before the recovery was taken: a redelivery, a repeat of the firing under its own id", () => {
    expect(priorTake(recovered, FIRING, at("2023-02-06T13:10:00Z"))).toEqual({ kind: "repeat", alertId: FIRING });
  });

  it("put on the queue after the recovery was taken: it fires again", () => {
    expect(priorTake(recovered, FIRING, at("2023-02-06T13:25:00Z")).kind).toBe("fires-again");
  });

  it("with no insertion time (a caller that has none): it fires again, as it always did", () => {
    expect(priorTake(recovered, FIRING).kind).toBe("fires-again");
  });

  it("the firing again redelivered after a later recovery: a repeat of that firing again, under the id it was taken as", () => {
    const { recent, takenAs } = takeAgain(recovered, at("2023-02-06T13:25:00Z"));
    const recoveredAgain = rememberRecovery(recent, LATER_RECOVERY, at("2023-02-06T14:20:05Z"));
    expect(priorTake(recoveredAgain, FIRING, at("2023-02-06T13:25:00Z"))).toEqual({ kind: "repeat", alertId: takenAs });
    expect(priorTake(recoveredAgain, FIRING, at("2023-02-06T14:25:00Z")).kind).toBe("fires-again");
  });
});

describe("an issue row written before recovery marks had a time", () => {
  // As the previous version stored it: the firing, its recovery's mark and id, then the firing taken again.
  const takenAgainAs = `${FIRING}:again:6298e184fd69`;
  const stored = [FIRING, `\u0001${RECOVERY}`, RECOVERY, FIRING, takenAgainAs];

  it("its firing taken again is still found: a resend is a repeat of it, not one more firing", () => {
    expect(priorTake(stored, FIRING, at("2023-02-06T13:40:00Z"))).toEqual({ kind: "repeat", alertId: takenAgainAs });
  });

  it("a firing taken before its recovery fires again when sent again, whenever it was put on the queue", () => {
    const recovered = stored.slice(0, 3);
    expect(priorTake(recovered, FIRING, at("2023-02-06T13:10:00Z"))).toEqual({ kind: "fires-again", alertId: takenAgainAs });
    expect(priorTake(recovered, FIRING)).toEqual({ kind: "fires-again", alertId: takenAgainAs });
  });
});

describe("people resolving and reopening an issue many times while no alert comes", () => {
  it("its alerts are still remembered: a resend is the firing again, not a new alert counted as one more event", () => {
    let recent = takenOnce;
    for (let n = 0; n < 60; n++) recent = rememberResolvedByPerson(recent, 2 * n + 2, new Date(Date.parse("2023-02-06T13:30:00Z") + n * 60_000));
    expect(priorTake(recent, FIRING).kind).toBe("fires-again");
  });
});
