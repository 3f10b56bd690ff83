/**
 * End to end, scenario 3: a misbehaving peer. A raw WebSocket client in this process (its own dev
 * key as identity) talks to a node process and sends what an attacker would: garbage and oversized
 * frames, unknown types, frames before the handshake, a handshake it never finishes, and after a
 * valid handshake forged channel messages in a channel it opened with the node (wrong channel,
 * replays, bad and swapped signatures, version gaps, overspending, a payment by the node that the
 * node never requested, frames for the channel the node has with someone else, a forged resync).
 * Each gets an error reply naming the problem; the node keeps serving its honest peer meanwhile,
 * and what it stored does not change.
 */
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { SigningKey, hexlify } from "ethers";
import { Sequencer, MAX_VERSION_GAP, encodeMessage, type PaymentProposal, type WithdrawalProposal } from "../../src/channel";
import { KeySigner, channelId as channelIdOf } from "../../src/crypto";
import { decodeOpenReply, encodeOpenTerms, encodeSyncReply, paramsOf, type OpenTerms } from "../../src/node/protocol";
import { keyIdentity } from "../../src/node/transport";
import type { ChannelView, PaymentView } from "../../src/node/api/types";
import { ETH, type Address, type Hex, type Params, type Withdrawal } from "../../src/types";
import { ETHER, agreed, allPayments, logsOf, openFunded, sleep, startCluster, waitFor, type Cluster, type ClusterNode } from "./helpers/cluster";
import { RawPeer, type ErrorBody } from "./helpers/rawPeer";

const randomHex32 = () => hexlify(randomBytes(32)) as Hex;

/** What participant 0 offers in `open` for these params: all of them but participant 1's payee. */
const termsOf = (p: Params): OpenTerms => ({ participants: p.participants, payee: p.payees[0], asset: p.asset, challengePeriod: p.challengePeriod, nonce: p.nonce });

/** Payments between the two honest nodes while the attack runs: every one must succeed. */
function honestTraffic(alice: ClusterNode, bob: ClusterNode, channelId: Hex) {
  let running = true;
  const done: { payer: 0 | 1; ref: Hex; amount: bigint }[] = [];
  const failures: string[] = [];
  const loop = async (payer: 0 | 1) => {
    const node = payer === 0 ? alice : bob;
    for (let i = 0; running; i++) {
      const ref = randomHex32();
      const amount = 1_000n + BigInt(i);
      try {
        await node.process.api.pay(channelId, amount, ref);
        done.push({ payer, ref, amount });
      } catch (error) {
        failures.push(`${node.name}: ${(error as Error).message}`);
      }
      await sleep(20);
    }
  };
  const loops = [loop(0), loop(1)];
  return {
    done,
    /** Stops once each node has made at least `min` payments (so the traffic overlapped the attack). */
    async stop(min = 3) {
      await waitFor(() => [0, 1].every((payer) => done.filter((d) => d.payer === payer).length >= min), { what: "honest payments" });
      running = false;
      await Promise.all(loops);
      return { done, failures };
    },
  };
}

describe("e2e: a misbehaving peer", function () {
  this.timeout(180_000);
  let cluster: Cluster;
  let alice: ClusterNode;
  let bob: ClusterNode;
  let chainId: bigint;
  let adjudicator: Address;
  /** The honest channel alice (0) – bob (1). */
  let real: ChannelView;
  let realParams: Params;
  // The attacker: dev account 3, participant 0 of a channel with bob.
  let evilKey: Hex;
  let evil: RawPeer;
  let params: Params;
  let channelId: Hex;
  let channel: Sequencer;
  let firstProposal: PaymentProposal;
  let latestProposal: PaymentProposal;
  /** Bob's countersignature of the latest state. */
  let bobSig: Hex;

  /** Sends a payment proposal of the attacker's channel and commits the node's acknowledgement. */
  async function deliver(proposal: PaymentProposal): Promise<void> {
    const answer = await evil.request("channel", { channelId, message: encodeMessage(proposal) });
    expect(answer.type, JSON.stringify(answer.body)).to.equal("result");
    const { signed } = await channel.receiveAck(answer.body);
    bobSig = signed.sigs[1];
  }

  /**
   * The next payment proposal of the attacker's channel, changed by `forge`, sent under
   * `sendAs`; the proposal is then dropped locally (the node must have refused it).
   */
  async function forged(forge: (p: PaymentProposal) => unknown, sendAs: Hex = channelId, from: Sequencer = channel): Promise<ErrorBody> {
    const proposal = await from.pay(1_000n, randomHex32());
    try {
      const message = forge(proposal) ?? encodeMessage(proposal);
      return await evil.refused("channel", { channelId: sendAs, message });
    } finally {
      await from.abandonPending(proposal.state.version);
    }
  }

  /** A channel object of the attacker restored from its real one with some facts changed. */
  function variant(change: { signedVersion?: bigint; deposits?: [bigint, bigint] }): Sequencer {
    const snapshot = channel.snapshot();
    return new Sequencer({
      params,
      signer: new KeySigner(evilKey),
      chainId,
      adjudicator,
      restore: { ...snapshot, signedVersion: change.signedVersion ?? snapshot.signedVersion, deposits: change.deposits ?? snapshot.deposits },
    });
  }

  /** The chain's time: the latest block's timestamp. */
  async function chainTime(): Promise<bigint> {
    return BigInt((await cluster.chain.provider.getBlock("latest"))!.timestamp);
  }

  /** A withdrawal of the attacker's channel, changed as asked, signed with the attacker's key. */
  async function forgedWithdrawal(change: Partial<Withdrawal>): Promise<WithdrawalProposal> {
    const withdrawal: Withdrawal = { channelId, participant: 0, total: 1_000n, expiry: (await chainTime()) + 600n, ...change };
    return { kind: "withdrawal", withdrawal, sig: new KeySigner(evilKey).sign(channel.hasher.withdrawalDigest(withdrawal)) };
  }

  async function storedOf(node: ClusterNode) {
    const channels = await node.process.api.channels();
    return {
      ids: channels.map((c) => c.channelId).sort(),
      attacker: await node.process.api.channel(channelId),
      attackerPayments: await allPayments(node, channelId),
    };
  }

  before(async function () {
    cluster = await startCluster();
    [alice, bob] = await Promise.all([cluster.startNode("alice", 1), cluster.startNode("bob", 2)]);
    chainId = cluster.chain.chainId;
    adjudicator = cluster.driver.address;
    real = await openFunded(alice, bob, ETH, [ETHER, ETHER]);
    realParams = { participants: real.participants, payees: real.payees, asset: real.asset, challengePeriod: real.challengePeriod, nonce: real.nonce };

    // The attacker opens a channel with bob like any peer would, and both fund it.
    const wallet = cluster.chain.wallet(3);
    evilKey = wallet.privateKey as Hex;
    evil = await RawPeer.connect(bob.peerUrl);
    await evil.handshake(keyIdentity(evilKey), chainId, adjudicator);
    const terms: OpenTerms = {
      participants: [wallet.address.toLowerCase() as Address, bob.address.toLowerCase() as Address],
      payee: wallet.address.toLowerCase() as Address,
      asset: ETH,
      challengePeriod: 3_600n,
      nonce: BigInt(hexlify(randomBytes(7))),
    };
    // The node answers the open with its payee (its own address by default) and the channel's id.
    const opened = await evil.request("open", { params: encodeOpenTerms(terms) });
    expect(opened.type).to.equal("result");
    const reply = decodeOpenReply(opened.body);
    expect(reply.payee).to.equal(bob.address.toLowerCase());
    params = paramsOf(terms, reply.payee);
    channelId = channelIdOf(params);
    expect(reply.channelId).to.equal(channelId);
    await cluster.driver.connect(wallet).deposit(params, 0, ETHER);
    await waitFor(async () => (await bob.process.api.channels()).some((c) => c.channelId === channelId));
    await bob.process.api.deposit(channelId, ETHER / 2n);
    expect((await evil.request("refresh", { channelId })).type).to.equal("result");
    await waitFor(async () => {
      const c = await bob.process.api.channel(channelId);
      return c.status === "open" && c.deposits[0] === ETHER && c.deposits[1] === ETHER / 2n;
    });
    channel = new Sequencer({ params, signer: new KeySigner(evilKey), chainId, adjudicator, deposits: [ETHER, ETHER / 2n] });
    // Two honest payments, so there is an old state to replay.
    firstProposal = await channel.pay(100n, randomHex32());
    await deliver(firstProposal);
    latestProposal = await channel.pay(200n, randomHex32());
    await deliver(latestProposal);
    expect((await bob.process.api.channel(channelId)).version).to.equal(2n);
  });

  after(async function () {
    evil?.close();
    await cluster?.stop();
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(logsOf(alice, bob));
  });

  it("refuses frames before and during the handshake, and drops a handshake that never finishes", async function () {
    const before = await storedOf(bob);
    const traffic = honestTraffic(alice, bob, real.channelId);

    // Opened first: it times out (5 s) while the other cases run.
    const silent = await RawPeer.connect(bob.peerUrl);
    const cases: { description: string; run: (peer: RawPeer) => void | Promise<void>; code: string; message: RegExp }[] = [
      {
        description: "a channel message before the handshake",
        run: (p) => p.send({ id: 1, type: "channel", body: { channelId: real.channelId, message: {} } }),
        code: "NOT_AUTHENTICATED",
        message: /"channel" frame before the handshake completed/,
      },
      { description: "garbage", run: (p) => p.send("\u0000garbage{"), code: "BAD_JSON", message: /not JSON/ },
      { description: "a binary frame", run: (p) => p.send(Buffer.from([1, 2, 3])), code: "BAD_JSON", message: /binary frame/ },
      {
        description: "an oversized handshake frame",
        run: (p) => p.send({ type: "auth", body: "x".repeat(8_000) }),
        code: "FRAME_TOO_LARGE",
        message: /exceeds the limit of 4096 bytes/,
      },
      {
        description: "an auth whose signature proves another address",
        run: async (p) => {
          const hello = await p.next((f) => f.type === "hello");
          const nonce = randomHex32();
          p.send({
            type: "auth",
            body: {
              protocol: "sluice/1",
              chainId: chainId.toString(),
              adjudicator: adjudicator.toLowerCase(),
              nonce,
              // Claims alice's address, signs with the attacker's key.
              address: alice.address.toLowerCase(),
              signature: new SigningKey(evilKey).sign(randomHex32()).serialized,
            },
          });
          expect((hello.body as { nonce: string }).nonce).to.match(/^0x[0-9a-f]{64}$/);
        },
        code: "HANDSHAKE_FAILED",
        message: new RegExp(`does not prove address ${alice.address.toLowerCase()}`),
      },
      {
        description: "an auth for another chain",
        run: (p) =>
          p.send({
            type: "auth",
            body: {
              protocol: "sluice/1",
              chainId: "1",
              adjudicator: adjudicator.toLowerCase(),
              nonce: randomHex32(),
              address: alice.address.toLowerCase(),
              signature: `0x${"11".repeat(65)}`,
            },
          }),
        code: "CHAIN_MISMATCH",
        message: new RegExp(`the peer is on chain 1, this node on chain ${chainId}`),
      },
    ];
    for (const c of cases) {
      const peer = await RawPeer.connect(bob.peerUrl);
      await c.run(peer);
      const error = (await peer.next((f) => f.type === "error")).body as ErrorBody;
      expect(error.code, c.description).to.equal(c.code);
      expect(error.message, c.description).to.match(c.message);
      // A failed handshake ends the connection with a policy violation.
      expect((await peer.closed).code, c.description).to.equal(1008);
    }

    const timeout = await silent.nextError(10_000);
    expect(timeout.code).to.equal("HANDSHAKE_TIMEOUT");
    expect(timeout.message).to.match(/did not complete within 5000 ms/);
    expect((await silent.closed).code).to.equal(1008);

    const { done, failures } = await traffic.stop();
    expect(failures).to.deep.equal([]);
    expect(done.length).to.be.at.least(6);
    expect(await storedOf(bob)).to.deep.equal(before);
  });

  it("answers every forged message after the handshake with an error naming it, and changes nothing", async function () {
    const before = await storedOf(bob);
    const realBefore = await allPayments(bob, real.channelId);
    const traffic = honestTraffic(alice, bob, real.channelId);

    const otherParams: Params = { ...params, nonce: params.nonce + 1n };
    const other = new Sequencer({ params: otherParams, signer: new KeySigner(evilKey), chainId, adjudicator, deposits: [ETHER, 0n] });
    const stranger = new SigningKey(randomHex32());

    const rows: { description: string; send: () => Promise<ErrorBody>; code: string; message: RegExp }[] = [
      {
        description: "garbage",
        send: () => (evil.send("{{{ not json"), evil.nextError()),
        code: "BAD_JSON",
        message: /frame is not JSON/,
      },
      {
        description: "an oversized frame",
        send: () => (evil.send({ type: "channel", body: "x".repeat(100_000) }), evil.nextError()),
        code: "FRAME_TOO_LARGE",
        message: /frame of 1000\d\d bytes exceeds the limit of 65536 bytes/,
      },
      { description: "an unknown type", send: () => evil.refused("teleport", { to: "mars" }), code: "UNKNOWN_TYPE", message: /unknown message type "teleport"/ },
      {
        description: "an envelope with an extra key",
        send: async () => {
          evil.send(JSON.stringify({ id: "extra-1", type: "sync", body: {}, admin: true }));
          return (await evil.next((f) => f.id === "extra-1")).body as ErrorBody;
        },
        code: "BAD_ENVELOPE",
        message: /unknown key "admin"/,
      },
      {
        description: "a body that fails validation",
        send: () => evil.refused("channel", { channelId: "0x1234", message: {} }),
        code: "BAD_BODY",
        message: /invalid channel body: .*channelId/,
      },
      {
        description: "an unknown channel id",
        send: () => forged(() => undefined, randomHex32()),
        code: "UNKNOWN_CHANNEL_ID",
        message: /no channel 0x[0-9a-f]{64} in this node/,
      },
      {
        description: "a state of another channel sent as this channel's",
        send: () => forged(() => undefined, channelId, other),
        code: "WRONG_CHANNEL",
        message: new RegExp(`wrong channel: expected ${channelId}, got ${channelIdOf(otherParams)}`, "i"),
      },
      {
        description: "a replayed old state",
        send: () => evil.refused("channel", { channelId, message: encodeMessage(firstProposal) }),
        code: "STALE_VERSION",
        message: /stale version 1: the latest state has version 2/,
      },
      {
        description: "the latest state again",
        send: () => evil.refused("channel", { channelId, message: encodeMessage(latestProposal) }),
        code: "STALE_VERSION",
        message: /stale version 2: the latest state has version 2/,
      },
      {
        description: "a signature by a stranger",
        send: () =>
          forged((p) => {
            p.sig = stranger.sign(channel.hasher.digestHex(p.state)).serialized as Hex;
          }),
        code: "INVALID_SIGNATURE",
        message: new RegExp(`invalid signature of ${params.participants[0]}`, "i"),
      },
      {
        description: "the proposer's signature of another state",
        send: () =>
          forged((p) => {
            p.sig = latestProposal.sig;
          }),
        code: "INVALID_SIGNATURE",
        message: /invalid signature of 0x/,
      },
      {
        description: "the node's own signature in the proposer's place (signatures swapped)",
        send: () =>
          forged((p) => {
            p.sig = bobSig;
          }),
        code: "INVALID_SIGNATURE",
        message: /invalid signature of 0x/,
      },
      {
        description: "a version more than MAX_VERSION_GAP ahead",
        send: () => forged(() => undefined, channelId, variant({ signedVersion: 2n + MAX_VERSION_GAP })),
        code: "VERSION_GAP",
        message: new RegExp(`version ${3n + MAX_VERSION_GAP} jumps too far: at most ${2n + MAX_VERSION_GAP} is accepted`),
      },
      {
        description: "paying more than the deposit",
        send: async () => {
          const rich = variant({ deposits: [100n * ETHER, ETHER / 2n] });
          const proposal = await rich.pay(2n * ETHER, randomHex32());
          return evil.refused("channel", { channelId, message: encodeMessage(proposal) });
        },
        code: "INSUFFICIENT_FUNDS",
        message: /participant 0 can't pay 2000000000000000000: only 999999999999999700 available/,
      },
      {
        description: "a payment by the node that the node never requested",
        send: async () => {
          const proposal = await channel.receiveRequest({ kind: "request", id: 42n, amount: ETHER / 4n, ref: randomHex32() });
          try {
            return await evil.refused("channel", { channelId, message: encodeMessage(proposal) });
          } finally {
            await channel.abandonPending(proposal.state.version);
          }
        },
        code: "UNREQUESTED_PAYMENT",
        message: /unrequested payment for request 42: no such outstanding request/,
      },
      {
        description: "a payment by the node with no request at all",
        send: async () => {
          const proposal = await channel.receiveRequest({ kind: "request", id: 43n, amount: ETHER / 4n, ref: randomHex32() });
          delete proposal.request;
          try {
            return await evil.refused("channel", { channelId, message: encodeMessage(proposal) });
          } finally {
            await channel.abandonPending(proposal.state.version);
          }
        },
        code: "UNREQUESTED_PAYMENT",
        message: /a payment by participant 1 must answer its request/,
      },
      {
        description: "a withdrawal above the proposer's balance",
        send: async () => {
          const rich = variant({ deposits: [100n * ETHER, ETHER / 2n] });
          const proposal = await rich.proposeWithdrawal(2n * ETHER, (await chainTime()) + 600n);
          return evil.refused("channel", { channelId, message: encodeMessage(proposal) });
        },
        code: "INSUFFICIENT_FUNDS",
        message: /participant 0 can't withdraw 2000000000000000000: only 999999999999999700 available/,
      },
      {
        description: "a withdrawal of the node's own share, signed by the proposer",
        send: async () => evil.refused("channel", { channelId, message: encodeMessage(await forgedWithdrawal({ participant: 1 })) }),
        code: "WITHDRAWAL_PARTICIPANT",
        message: /a withdrawal for participant 1: only participant 0 may ask for its own/,
      },
      {
        description: "a withdrawal that has expired",
        send: async () => evil.refused("channel", { channelId, message: encodeMessage(await forgedWithdrawal({ expiry: 1n })) }),
        code: "WITHDRAWAL_EXPIRY",
        message: /withdrawal expiry 1 is not after/,
      },
      {
        description: "a withdrawal acknowledgement sent as a request",
        send: () => evil.refused("channel", { channelId, message: { kind: "withdrawal-ack", total: "1", sig: bobSig } }),
        code: "SLUICE",
        message: /acknowledgements travel as replies/,
      },
      {
        description: "the withdrawals of the node's channel with alice",
        send: () => evil.refused("withdrawals", { channelId: real.channelId }),
        code: "NOT_YOUR_CHANNEL",
        message: /is not shared with/,
      },
      {
        description: "a valid frame for the node's channel with alice",
        send: () => forged(() => undefined, real.channelId),
        code: "NOT_YOUR_CHANNEL",
        message: new RegExp(`channel ${real.channelId} is not shared with ${params.participants[0]}`, "i"),
      },
      {
        description: "a sync of the node's channel with alice (would leak its states)",
        send: () => evil.refused("sync", { channelId: real.channelId, version: "0" }),
        code: "NOT_YOUR_CHANNEL",
        message: /is not shared with/,
      },
      {
        description: "a refresh of the node's channel with alice",
        send: () => evil.refused("refresh", { channelId: real.channelId }),
        code: "NOT_YOUR_CHANNEL",
        message: /is not shared with/,
      },
      {
        description: "re-opening the channel of alice and the node",
        send: () => evil.refused("open", { params: encodeOpenTerms(termsOf(realParams)) }),
        code: "INVALID_ARGUMENT",
        message: /the opener must be participant 0/,
      },
      {
        description: "opening a channel the node is not in",
        send: () => evil.refused("open", { params: encodeOpenTerms({ ...termsOf(params), participants: [params.participants[0], alice.address] }) }),
        code: "INVALID_ARGUMENT",
        message: /this node is not participant 1 of the channel/,
      },
    ];
    for (const row of rows) {
      const error = await row.send();
      expect(error.code, `${row.description}: ${error.message}`).to.equal(row.code);
      expect(error.message, row.description).to.match(row.message);
    }
    // The connection still serves: an honest payment of the attacker's channel goes through.
    expect(evil.isOpen).to.equal(true);
    const honest = await channel.pay(300n, randomHex32());
    await deliver(honest);
    const after = await storedOf(bob);
    // Versions the refused proposals used are skipped (never signed twice), not reused.
    expect(after.attacker.version).to.equal(honest.state.version);
    expect(after.attacker.version > before.attacker.version).to.equal(true);
    expect(after.attacker.payments).to.equal(before.attacker.payments + 1n);
    expect(after.attacker.transferred).to.deep.equal([before.attacker.transferred[0] + 300n, before.attacker.transferred[1]]);
    expect(after.attackerPayments.slice(0, -1)).to.deep.equal(before.attackerPayments);
    expect(after.attackerPayments.at(-1)!.ref).to.equal(honest.payment.ref);
    expect(after.ids).to.deep.equal(before.ids);

    const { done, failures } = await traffic.stop();
    expect(failures).to.deep.equal([]);
    expect(done.length).to.be.at.least(6);
    const realAfter = await allPayments(bob, real.channelId);
    expect(realAfter.slice(0, realBefore.length)).to.deep.equal(realBefore);
    expect(realAfter.slice(realBefore.length).map((p: PaymentView) => p.ref).sort()).to.deep.equal(done.map((d) => d.ref).sort());
    expect((await allPayments(alice, real.channelId)).map(agreed)).to.deep.equal(realAfter.map(agreed));
  });

  it("adopts nothing from a forged resync (swapped signatures) and survives an over-limit frame", async function () {
    const before = await storedOf(bob);
    // A second connection of the attacker: the node resyncs the attacker's channel on it and is
    // offered a newer state whose two signatures sit in each other's places.
    const next = await channel.pay(500n, randomHex32());
    await channel.abandonPending(next.state.version);
    const swapped = await RawPeer.connect(bob.peerUrl);
    swapped.handlers.set("sync", () =>
      encodeSyncReply({ items: [{ signed: { state: next.state, sigs: [bobSig, next.sig] }, payments: [next.payment] }], more: false }),
    );
    await swapped.handshake(keyIdentity(evilKey), chainId, adjudicator);
    await waitFor(() => bob.process.log().includes(`resyncing ${channelId}`), { what: "the node to refuse the forged resync" });
    const line = bob.process.log().split("\n").find((l) => l.includes(`resyncing ${channelId}`))!;
    expect(line).to.match(/invalid signature of 0x[0-9a-f]{40}: sync item 0 \(version \d+\): signature 0/i);
    expect(swapped.requests.some((r) => r.type === "sync")).to.equal(true);
    expect(await storedOf(bob)).to.deep.equal(before);

    // A frame above the hard limit (16 × 64 KiB) ends that connection with 1009; the node goes on.
    swapped.send(Buffer.from(JSON.stringify({ type: "channel", body: "y".repeat(2 * 1024 * 1024) })).toString());
    expect((await swapped.closed).code).to.equal(1009);
    await alice.process.api.pay(real.channelId, 1n, randomHex32());
    await bob.process.api.pay(real.channelId, 1n, randomHex32());
    expect(await storedOf(bob)).to.deep.equal(before);
  });
});
