/**
 * Maglev consistent hashing for the CLB's L4 listeners, and the flow hash the
 * kernel uses to pick a slot.
 *
 * API: `maglevTable(backends, size = MAGLEV_SIZE)` returns an Int32Array of
 * `size` slots, each the index into `backends` of the backend that owns the
 * slot (-1 everywhere when no backend has weight > 0). `MaglevBackend` is
 * `{ key: 'ip:port', weight }`; weight 0 backends own no slot, the others own
 * slots in proportion to their weights. The table depends only on the set of
 * (key, weight) pairs, not on their order, so every LB node computes the same
 * one; keys must be unique and `size` prime. `flowHashExpr(size)` is the nft
 * expression (`jhash ip saddr . th sport . ip daddr . th dport mod <size> seed
 * FLOW_HASH_SEED`) that an LB node puts in `dnat to <expr> map @…` to pick a
 * new flow's slot, and `flowSlot(flow, size)` computes in TypeScript exactly
 * the slot the kernel's nft_jhash picks for a TCP or UDP 5-tuple (proven
 * against the kernel by test/dataplane/linux/flow-hash.test.ts), for tests,
 * traces and the controller's "which target serves this flow" answers. The
 * backend of a new flow is `backends[table[flowSlot(flow, table.length)]]`.
 *
 * Algorithm (Eisenbud et al., "Maglev", NSDI 2016, §3.4, with weights): each
 * backend's preference list is the permutation offset, offset + skip, … (mod
 * size) where offset = h1(key) mod size and skip = h2(key) mod (size − 1) + 1,
 * h1 and h2 two seeded 32-bit MurmurHash3 hashes. Backends, sorted by key,
 * take turns claiming their next unclaimed preferred slot; a backend of
 * weight w earns w credits a turn and claims a slot for each max-weight
 * credits it holds (so the heaviest claims every turn, and its m-th claim
 * falls in turn ⌈m · maxW / w⌉: with skewed weights buckets of turns order
 * the claims, so that they cost little more than equal ones). The hash seeds and
 * this procedure are part of the contract between nodes: changing either
 * reshuffles every table.
 */

/** Slots per listener table: prime, ≥ 100 × the largest backend count we expect (the paper's advice). */
export const MAGLEV_SIZE = 65537;

export interface MaglevBackend {
  /** `ip:port`, unique among the backends of a table. */
  key: string;
  /** ≥ 0; 0 owns no slot (drains). */
  weight: number;
}

const SEED_OFFSET = 0x9e3779b9;
const SEED_SKIP = 0x85ebca6b;

const utf8 = new TextEncoder();

/** MurmurHash3 x86_32 of `data` with `seed`, as an unsigned 32-bit number. */
export function murmur3(data: Uint8Array, seed: number): number {
  let h = seed >>> 0;
  const n = data.length;
  const blocks = n & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = n & 3;
  if (rest > 0) {
    let k = data[blocks]!;
    if (rest > 1) k ^= data[blocks + 1]! << 8;
    if (rest > 2) k ^= data[blocks + 2]! << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/**
 * The Maglev lookup table: slot → index into `backends`, -1 in every slot
 * when no backend has weight > 0. Throws on a size that is not prime, a
 * duplicate key, or a weight that is negative or not finite.
 */
export function maglevTable(backends: readonly MaglevBackend[], size = MAGLEV_SIZE): Int32Array {
  if (!isPrime(size)) throw new Error(`Maglev table size ${size} is not prime`);
  const table = new Int32Array(size).fill(-1);
  const order: number[] = [];
  let maxW = 0;
  for (const [i, b] of backends.entries()) {
    if (!Number.isFinite(b.weight) || b.weight < 0) throw new Error(`backend ${b.key}: weight ${b.weight} is not a finite number ≥ 0`);
    if (b.weight > 0) order.push(i);
    if (b.weight > maxW) maxW = b.weight;
  }
  order.sort((x, y) => (backends[x]!.key < backends[y]!.key ? -1 : backends[x]!.key > backends[y]!.key ? 1 : 0));
  const seen = new Set<string>();
  for (const b of backends) {
    if (seen.has(b.key)) throw new Error(`duplicate Maglev backend key ${b.key}`);
    seen.add(b.key);
  }
  const n = order.length;
  if (n === 0) return table;

  const next = new Int32Array(n); // the next preferred slot to try
  const skip = new Int32Array(n);
  const weight = new Float64Array(n);
  let equal = true;
  for (let j = 0; j < n; j++) {
    const b = backends[order[j]!]!;
    const bytes = utf8.encode(b.key);
    next[j] = murmur3(bytes, SEED_OFFSET) % size;
    skip[j] = (murmur3(bytes, SEED_SKIP) % (size - 1)) + 1;
    weight[j] = b.weight;
    if (b.weight !== maxW) equal = false;
  }

  const taken = new Uint8Array(size); // a byte a slot: the probe loop stays in cache
  let filled = 0;
  /** Backend j claims its next preferred free slot; true when the table is full. */
  const claim = (j: number): boolean => {
    let s = next[j]!;
    const k = skip[j]!;
    while (taken[s]) {
      s += k;
      s -= size & ((size - 1 - s) >> 31); // s mod size without a branch (it would mispredict half the time)
    }
    taken[s] = 1;
    table[s] = order[j]!;
    s += k;
    next[j] = s >= size ? s - size : s;
    return ++filled === size;
  };

  if (equal) {
    for (;;) for (let j = 0; j < n; j++) if (claim(j)) return table;
  }
  // Weighted: backend j earns w credits a turn and spends maxW a claim, so its m-th claim falls
  // in turn ⌈m · maxW / w⌉; claims go by turn, then by key. When the weights are close, walking
  // the turns is cheapest (each turn visits every backend: n · maxW / Σw visits a claim); when
  // a few heavy backends claim turn after turn among many light ones, buckets of turns (or, for
  // weights over 65,536 to 1, a heap) order the claims instead. All give the same table.
  let sum = 0;
  for (let j = 0; j < n; j++) sum += weight[j]!;
  if ((n * maxW) / sum <= 4 * Math.log2(n)) {
    const credit = new Float64Array(n);
    for (;;)
      for (let j = 0; j < n; j++) {
        const c = credit[j]! + weight[j]!;
        if (c < maxW) credit[j] = c;
        else {
          credit[j] = c - maxW;
          if (claim(j)) return table;
        }
      }
  }
  const claims = new Float64Array(n);
  /** The turn of backend j's next claim. */
  const nextTurn = (j: number) => Math.ceil(((claims[j]! + 1) * maxW) / weight[j]!);
  // A backend's claims are at most ⌈maxW / minW⌉ turns apart: a ring of that many buckets of
  // turns holds every pending claim; a turn's bucket, sorted, gives its claims in key order.
  let minW = maxW;
  for (let j = 0; j < n; j++) if (weight[j]! < minW) minW = weight[j]!;
  const ring = Math.ceil(maxW / minW) + 1;
  if (ring <= 1 << 16) {
    const head = new Int32Array(ring).fill(-1);
    const link = new Int32Array(n);
    const due = new Int32Array(n);
    const enqueue = (j: number) => {
      const b = nextTurn(j) % ring;
      link[j] = head[b]!;
      head[b] = j;
    };
    for (let j = n - 1; j >= 0; j--) enqueue(j);
    for (let t = 1; ; t++) {
      const b = t % ring;
      let k = 0;
      for (let j = head[b]!; j !== -1; j = link[j]!) due[k++] = j;
      head[b] = -1;
      if (k > 1) due.subarray(0, k).sort();
      for (let i = 0; i < k; i++) {
        const j = due[i]!;
        if (claim(j)) return table;
        claims[j]!++;
        enqueue(j);
      }
    }
  }
  // Weights too far apart for the ring (over 65,536 to 1): a heap orders the claims.
  const turn = new Float64Array(n);
  const heap = new Int32Array(n);
  const siftDown = (i: number) => {
    const j = heap[i]!;
    const tj = turn[j]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let h = heap[c]!;
      let t = turn[h]!;
      if (c + 1 < n) {
        const h2 = heap[c + 1]!;
        const t2 = turn[h2]!;
        if (t2 < t || (t2 === t && h2 < h)) {
          c++;
          h = h2;
          t = t2;
        }
      }
      if (tj < t || (tj === t && j < h)) break;
      heap[i] = h;
      i = c;
    }
    heap[i] = j;
  };
  for (let j = 0; j < n; j++) {
    turn[j] = nextTurn(j);
    heap[j] = j;
  }
  for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(i);
  for (;;) {
    const j = heap[0]!;
    if (claim(j)) return table;
    claims[j]!++;
    turn[j] = nextTurn(j);
    siftDown(0);
  }
}

/** The seed of the flow hash in every LB node's ruleset (and in `flowSlot`). */
export const FLOW_HASH_SEED = 0x77656674; // 'weft'

/**
 * The nft expression that picks a new flow's slot in a table of `size`
 * slots: `jhash ip saddr . th sport . ip daddr . th dport mod <size> seed
 * 0x77656674`. nft 1.0.6 accepts `th` inside jhash (the same expression for
 * TCP and UDP: the ports are the first 4 bytes of either header). The map
 * it looks up must have a 32-bit integer key; nft 1.0.6 takes
 * `map l { typeof numgen inc mod 65537 : ip daddr . udp dport; elements =
 * { 0 : 10.0.1.5 . 80, … } }` with `dnat ip to <expr> map @l` (`type mark :
 * …` is refused: "map expects packet mark, mapping expression has type
 * integer"). test/dataplane/linux/flow-hash.test.ts loads such a map of a
 * whole table and checks each flow reaches table[flowSlot(flow)].
 */
export function flowHashExpr(size: number): string {
  if (!Number.isInteger(size) || size < 1 || size > 0xffffffff) throw new Error(`flow hash modulus ${size} out of range`);
  return `jhash ip saddr . th sport . ip daddr . th dport mod ${size} seed 0x${FLOW_HASH_SEED.toString(16).padStart(8, '0')}`;
}

export interface Flow {
  src: string;
  sport: number;
  dst: string;
  dport: number;
  protocol: 'tcp' | 'udp';
}

const rol = (x: number, k: number) => (x << k) | (x >>> (32 - k));

/** Linux include/linux/jhash.h `jhash()` of 16 bytes given as four little-endian 32-bit words. */
function jhash16(w0: number, w1: number, w2: number, w3: number, initval: number): number {
  let a = (0xdeadbeef + 16 + initval) | 0;
  let b = a;
  let c = a;
  // the loop runs once (16 > 12): __jhash_mix
  a = (a + w0) | 0;
  b = (b + w1) | 0;
  c = (c + w2) | 0;
  a = (a - c) | 0; a ^= rol(c, 4); c = (c + b) | 0;
  b = (b - a) | 0; b ^= rol(a, 6); a = (a + c) | 0;
  c = (c - b) | 0; c ^= rol(b, 8); b = (b + a) | 0;
  a = (a - c) | 0; a ^= rol(c, 16); c = (c + b) | 0;
  b = (b - a) | 0; b ^= rol(a, 19); a = (a + c) | 0;
  c = (c - b) | 0; c ^= rol(b, 4); b = (b + a) | 0;
  // the 4 bytes left (case 4 … case 1): __jhash_final
  a = (a + w3) | 0;
  c ^= b; c = (c - rol(b, 14)) | 0;
  a ^= c; a = (a - rol(c, 11)) | 0;
  b ^= a; b = (b - rol(a, 25)) | 0;
  c ^= b; c = (c - rol(b, 16)) | 0;
  a ^= c; a = (a - rol(c, 4)) | 0;
  b ^= a; b = (b - rol(a, 14)) | 0;
  c ^= b; c = (c - rol(b, 24)) | 0;
  return c >>> 0;
}

/** The 4 bytes of a dotted IPv4 address in network order, read as a little-endian word (as the kernel reads its register on x86/arm64). */
function ipWord(ip: string): number {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return (p[0]! | (p[1]! << 8) | (p[2]! << 16) | (p[3]! << 24)) >>> 0;
}

/** A port in network order in a register's first 2 bytes, the other 2 zeroed (nft_payload clears the partial register). */
function portWord(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`not a port: ${port}`);
  return ((port >>> 8) | ((port & 0xff) << 8)) >>> 0;
}

/**
 * The slot the kernel picks for `flow` with `flowHashExpr(size)`:
 * nft_jhash_eval = reciprocal_scale(jhash(regs, 16, seed), size) over the
 * registers saddr, sport (padded to 4 bytes), daddr, dport (padded). Assumes
 * a little-endian kernel (x86, arm64), as the registers are read as native
 * words. The protocol does not enter the hash (`th` reads both alike).
 */
export function flowSlot(flow: Flow, size: number): number {
  const h = jhash16(ipWord(flow.src), portWord(flow.sport), ipWord(flow.dst), portWord(flow.dport), FLOW_HASH_SEED);
  return Math.floor((h * size) / 0x100000000); // reciprocal_scale: (u64)h * size >> 32, exact in a double (< 2^53)
}
