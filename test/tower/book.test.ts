/**
 * The tower's book: what it accepts from a client (a state of the client's own channel, signed by
 * both participants, newer than the one held), what it refuses (storing nothing), and that its
 * clients and states survive a restart of the store.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Wallet } from "ethers";
import { EcdsaVerifier, KeySigner, StateHasher, channelId } from "../../src/crypto";
import { SluiceError } from "../../src/errors";
import { ChannelStore } from "../../src/node/store";
import { TowerBadSignatureError, TowerBook, TowerChannelMismatchError, TowerNotYourChannelError } from "../../src/tower";
import { ETH, ZERO_HASH, type Address, type Hex, type Params, type SignedState } from "../../src/types";

const CHAIN_ID = 31337n;
const ADJUDICATOR: Address = "0x000000000000000000000000000000000000ad01";

describe("tower: the book of handed states", function () {
  const keys = [Wallet.createRandom(), Wallet.createRandom(), Wallet.createRandom()];
  const [alice, bob, mallory] = keys.map((w) => ({ address: w.address.toLowerCase() as Address, signer: new KeySigner(w.privateKey as Hex) }));
  const params: Params = { participants: [alice.address, bob.address], payees: [alice.address, bob.address], asset: ETH, challengePeriod: 300n, nonce: 7n };
  const id = channelId(params);
  const hasher = new StateHasher(CHAIN_ID, ADJUDICATOR);
  let dir: string;
  let store: ChannelStore;
  let book: TowerBook;

  /** A state of `id` at `version`, signed by `signers` (both participants by default). */
  function signed(version: bigint, signers = [alice.signer, bob.signer], channel: Hex = id): SignedState {
    const state = { channelId: channel, version, transferred: [version, 0n] as [bigint, bigint], locked: [0n, 0n] as [bigint, bigint], locksRoot: ZERO_HASH, paymentsRoot: ZERO_HASH, isFinal: false };
    const digest = hasher.digest(state);
    return { state, sigs: [signers[0].sign(digest), signers[1].sign(digest)] };
  }

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-tower-"));
    store = ChannelStore.open(path.join(dir, "store.sqlite"));
    book = new TowerBook(store.tower, new EcdsaVerifier(), CHAIN_ID, ADJUDICATOR);
  });

  afterEach(function () {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps a state both participants signed, for a client that is one of them", function () {
    const reply = book.accept(alice.address, params, signed(3n));
    expect(reply).to.deep.equal({ channelId: id, version: 3n, stored: true });
    expect(store.tower.newest(id)).to.deep.equal({ params, latest: signed(3n) });
    expect(store.tower.channelsOf(alice.address)).to.deep.equal([{ channelId: id, version: 3n }]);
  });

  const refusals: { what: string; client: () => Address; state: () => SignedState; error: abstract new (...args: never[]) => SluiceError; code: string }[] = [
    { what: "a signature by someone else than participant 1", client: () => alice.address, state: () => signed(3n, [alice.signer, mallory.signer]), error: TowerBadSignatureError, code: "TOWER_BAD_SIGNATURE" },
    { what: "a signature by someone else than participant 0", client: () => bob.address, state: () => signed(3n, [bob.signer, bob.signer]), error: TowerBadSignatureError, code: "TOWER_BAD_SIGNATURE" },
    { what: "a state with its signatures swapped", client: () => alice.address, state: () => { const s = signed(3n); return { state: s.state, sigs: [s.sigs[1], s.sigs[0]] }; }, error: TowerBadSignatureError, code: "TOWER_BAD_SIGNATURE" },
    { what: "an unsigned state", client: () => alice.address, state: () => ({ state: signed(3n).state, sigs: ["0x", "0x"] }), error: TowerBadSignatureError, code: "TOWER_BAD_SIGNATURE" },
    { what: "a channel its client is not in", client: () => mallory.address, state: () => signed(3n), error: TowerNotYourChannelError, code: "TOWER_NOT_YOUR_CHANNEL" },
    { what: "a state of another channel than the params'", client: () => alice.address, state: () => signed(3n, undefined, channelId({ ...params, nonce: 8n })), error: TowerChannelMismatchError, code: "TOWER_CHANNEL_MISMATCH" },
  ];
  for (const row of refusals) {
    it(`refuses ${row.what}, storing nothing`, function () {
      expect(() => book.accept(row.client(), params, row.state()))
        .to.throw(row.error)
        .with.property("code", row.code);
      expect(store.tower.newest(id)).to.equal(undefined);
      expect(store.tower.channelsOf(row.client())).to.deep.equal([]);
    });
  }

  it("ignores a state older than (or as old as) the one held, and answers with the one held", function () {
    book.accept(alice.address, params, signed(5n));
    expect(book.accept(alice.address, params, signed(4n))).to.deep.equal({ channelId: id, version: 5n, stored: false });
    expect(book.accept(alice.address, params, signed(5n))).to.deep.equal({ channelId: id, version: 5n, stored: false });
    expect(store.tower.newest(id)?.latest.state.version).to.equal(5n);
    expect(book.accept(alice.address, params, signed(6n))).to.deep.equal({ channelId: id, version: 6n, stored: true });
    expect(store.tower.newest(id)?.latest).to.deep.equal(signed(6n));
  });

  it("watches the newest state any of the channel's clients handed", function () {
    book.accept(alice.address, params, signed(5n));
    book.accept(bob.address, params, signed(9n));
    expect(store.tower.newest(id)?.latest.state.version).to.equal(9n);
    expect(store.tower.clients().map((c) => [c.address, c.channels])).to.deep.equal([
      [alice.address, 1],
      [bob.address, 1],
    ]);
  });

  it("stops watching a channel once it concluded", function () {
    book.accept(alice.address, params, signed(5n));
    expect(store.tower.liveChannels()).to.deep.equal([id]);
    store.tower.concluded(id);
    expect(store.tower.newest(id)).to.equal(undefined);
    expect(store.tower.liveChannels()).to.deep.equal([]);
    expect(store.tower.clients()[0].channels).to.equal(0);
  });

  it("survives a restart with its clients and states", function () {
    book.accept(alice.address, params, signed(5n));
    store.tower.seen(bob.address);
    const file = store.path;
    store.close();
    store = ChannelStore.open(file);
    book = new TowerBook(store.tower, new EcdsaVerifier(), CHAIN_ID, ADJUDICATOR);
    expect(store.tower.clients().map((c) => c.address)).to.have.deep.members([alice.address, bob.address]);
    expect(store.tower.newest(id)).to.deep.equal({ params, latest: signed(5n) });
    expect(store.tower.liveChannels()).to.deep.equal([id]);
    // The held version still decides after the restart.
    expect(book.accept(alice.address, params, signed(4n)).stored).to.equal(false);
  });
});
