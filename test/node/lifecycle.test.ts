import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { channelId as channelIdOf } from "../../src/crypto";
import {
  ChannelLifecycle,
  ChannelStatusError,
  IllegalTransitionError,
  INITIAL_STATUS,
  LIFECYCLE_EVENTS,
  TRANSITIONS,
  isConcluded,
  nextStatus,
  type LifecycleEvent,
} from "../../src/node/lifecycle";
import { ChannelStore } from "../../src/node/store";
import { UnknownChannelError } from "../../src/node/store/errors";
import { CHANNEL_STATUSES, type ChannelStatus } from "../../src/node/store/types";
import { ETH, type Address, type Hex, type Params } from "../../src/types";

/** Every legal move, written out by hand: the table must hold exactly these. */
const LEGAL: [ChannelStatus, LifecycleEvent, ChannelStatus][] = [
  ["opening", "funded", "open"],
  ["open", "funded", "open"],
  ["open", "challenged", "disputed"],
  ["open", "closed", "closed"],
  ["open", "settled", "settled"],
  ["closing", "funded", "closing"],
  ["closing", "challenged", "disputed"],
  ["closing", "closed", "closed"],
  ["closing", "settled", "settled"],
  ["disputed", "funded", "disputed"],
  ["disputed", "challenged", "disputed"],
  ["disputed", "closed", "closed"],
  ["disputed", "settled", "settled"],
  ["closed", "closed", "closed"],
  ["settled", "settled", "settled"],
  ["opening", "abandoned", "abandoned"],
  ["abandoned", "abandoned", "abandoned"],
  // A deposit that lands after the channel was abandoned (its transaction was still in flight).
  ["abandoned", "funded", "open"],
];

const isLegal = (from: ChannelStatus, event: LifecycleEvent) => LEGAL.some(([f, e]) => f === from && e === event);
const ILLEGAL: [ChannelStatus, LifecycleEvent][] = CHANNEL_STATUSES.flatMap((from) =>
  LIFECYCLE_EVENTS.filter((event) => !isLegal(from, event)).map((event): [ChannelStatus, LifecycleEvent] => [from, event]),
);

const ALICE: Address = "0x1000000000000000000000000000000000000001";
const BOB: Address = "0x2000000000000000000000000000000000000002";
const PARAMS: Params = {
  participants: [ALICE, BOB],
  payees: [ALICE, BOB],
  asset: ETH,
  challengePeriod: 600n,
  nonce: 1n,
};
const ID = channelIdOf(PARAMS);

describe("channel lifecycle", function () {
  let dir: string;
  let store: ChannelStore;
  let lifecycle: ChannelLifecycle;

  /** A fresh store whose clock ticks at every write: any write shows in the row's update time. */
  function openStore(): void {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-lifecycle-"));
    let tick = 0;
    store = ChannelStore.open(path.join(dir, "store.sqlite"), { now: () => ++tick });
    lifecycle = new ChannelLifecycle(store);
  }

  beforeEach(openStore);

  afterEach(function () {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The channel stored with `status`, as the store would hold it after earlier moves. */
  function storedAs(status: ChannelStatus): Hex {
    store.putChannel({ params: PARAMS, myIndex: 0, status });
    return ID;
  }

  it("the table holds exactly the legal moves listed here, and every status and event has a row", function () {
    const table = CHANNEL_STATUSES.flatMap((from) =>
      LIFECYCLE_EVENTS.flatMap((event) => {
        const to = TRANSITIONS[from][event];
        return to === undefined ? [] : [[from, event, to]];
      }),
    );
    expect(table).to.have.deep.members(LEGAL);
    expect(table).to.have.length(LEGAL.length);
    expect(Object.keys(TRANSITIONS)).to.have.members([...CHANNEL_STATUSES]);
    expect(INITIAL_STATUS).to.equal("opening");
    expect(CHANNEL_STATUSES.filter(isConcluded)).to.deep.equal(["closed", "settled", "abandoned"]);
  });

  for (const [from, event, to] of LEGAL) {
    it(`${from} --${event}--> ${to}: stored, and read back`, function () {
      const id = storedAs(from);
      expect(lifecycle.check(id, event)).to.equal(to);
      expect(lifecycle.status(id)).to.equal(from); // check writes nothing
      const before = store.getChannel(id)!;
      expect(lifecycle.apply(id, event)).to.equal(to);
      expect(lifecycle.status(id)).to.equal(to);
      const after = store.getChannel(id)!;
      expect(after.status).to.equal(to);
      // Written only when the status changes.
      if (to === from) expect(after).to.deep.equal(before);
      else expect(after.updatedAt).to.be.above(before.updatedAt);
    });
  }

  it("refuses every illegal move with a typed error naming the channel, status and event, and writes nothing", function () {
    expect(ILLEGAL.length).to.equal(CHANNEL_STATUSES.length * LIFECYCLE_EVENTS.length - LEGAL.length);
    for (const [from, event] of ILLEGAL) {
      store.close();
      rmSync(dir, { recursive: true, force: true });
      openStore();
      const id = storedAs(from);
      const before = store.getChannel(id);
      for (const attempt of [() => lifecycle.apply(id, event), () => lifecycle.check(id, event), () => nextStatus(id, from, event)]) {
        let caught: unknown;
        try {
          attempt();
        } catch (error) {
          caught = error;
        }
        expect(caught, `${from} --${event}-->`).to.be.instanceOf(IllegalTransitionError);
        expect(caught).to.be.instanceOf(ChannelStatusError);
        expect(caught).to.deep.include({ channelId: id, from, event, status: from });
        expect((caught as Error).message).to.contain(from).and.contain(event).and.contain(id);
      }
      // Nothing written: not the status, not even the row's update time.
      expect(store.getChannel(id), `${from} --${event}-->`).to.deep.equal(before);
    }
  });

  it("reads a channel's status from the store once, keeps what it writes, and a new lifecycle reads the store again", function () {
    const id = storedAs("opening");
    let reads = 0;
    const read = store.channelStatus.bind(store);
    store.channelStatus = (channelId: Hex) => {
      reads++;
      return read(channelId);
    };
    for (let i = 0; i < 5; i++) expect(lifecycle.status(id)).to.equal("opening");
    expect(lifecycle.apply(id, "funded")).to.equal("open");
    expect(lifecycle.status(id.toUpperCase().replace("0X", "0x") as Hex)).to.equal("open");
    expect(reads).to.equal(1);
    expect(new ChannelLifecycle(store).status(id)).to.equal("open");
    expect(reads).to.equal(2);
  });

  it("a status the store failed to write is not kept", function () {
    const id = storedAs("opening");
    expect(lifecycle.status(id)).to.equal("opening");
    store.setStatus = () => {
      throw new Error("disk full");
    };
    expect(() => lifecycle.apply(id, "funded")).to.throw("disk full");
    expect(lifecycle.status(id)).to.equal("opening");
  });

  it("names the API call in a refusal when given one", function () {
    const id = storedAs("opening");
    expect(() => lifecycle.check(id, "closed", "close")).to.throw(IllegalTransitionError, `cannot close: channel ${id} is opening`);
  });

  it("a channel the store does not hold is an UnknownChannelError, for reads and moves", function () {
    expect(() => lifecycle.status(ID)).to.throw(UnknownChannelError);
    expect(() => lifecycle.apply(ID, "funded")).to.throw(UnknownChannelError);
    expect(store.getChannel(ID)).to.equal(null);
  });
});
