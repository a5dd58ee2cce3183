/**
 * Benchmark sizes, from flags (`npm run bench -- --events 2000`) or environment (BENCH_EVENTS=2000),
 * flags winning. Defaults finish in a few minutes on 2 cores.
 */
export interface BenchOptions {
  /** N: events ingested per product run, workflows per ceiling-B run, jobs per peer run. */
  events: number;
  /** C: requests, workflow starts or enqueues in flight at once. */
  concurrency: number;
  /** Destinations per event in the fan-out run. */
  fanout: number;
  /** Requests sent by ceiling A (at least N, default max(N, 5000) so the figure is not a few ms of noise). */
  rawRequests: number;
  /** Deliveries kept retrying against a 503 receiver for the memory figure; 0 skips it. */
  backlog: number;
  /** Minutes of steady load in the soak phase. */
  soakMinutes: number;
  /**
   * Deliveries/s taken as the product's capacity when the product phase is not in the run: the
   * soak then runs at half of it. When the product phase runs, its fan-out-1 figure is used instead.
   */
  soakCapacity: number;
  /** BullMQ worker concurrency of the peer. */
  peerConcurrency: number;
  /** Skips the peer and its fault runs. */
  skipPeer: boolean;
  /** CPU profiles of the API and worker during the product runs, written next to the process logs. */
  profile: boolean;
  /** Writes bench/baseline.json from this run: the "before" column of later runs. */
  saveBaseline: boolean;
  /** Where the report goes. */
  resultsFile: string;
  /** Whether the report file was named (--out / BENCH_OUT) rather than defaulted. */
  resultsFileGiven: boolean;
  label: string;
  /** The phases this run runs (`--only`); all of them unless told. */
  phases: ReadonlySet<BenchPhase>;
  /** True when `--only` left phases out: the report is then partial. */
  partial: boolean;
}

/** The phases of a run, in the order they run. */
export const BENCH_PHASES = ['ceiling-a', 'ceiling-b', 'product', 'scale-out', 'noisy', 'limiter', 'recovery', 'soak', 'peer', 'peer-faults', 'backlog'] as const;
export type BenchPhase = (typeof BENCH_PHASES)[number];

const HELP = `npm run bench -- [options]
  --events N            events / workflows / jobs per run        (BENCH_EVENTS, default 1000)
  --concurrency C       in flight at once                        (BENCH_CONCURRENCY, default 32)
  --fanout F            destinations per event in the fan-out run (BENCH_FANOUT, default 5)
  --raw-requests R      requests of ceiling A                     (BENCH_RAW_REQUESTS, default max(N, 5000))
  --backlog B           deliveries in the 503 backlog, 0 = skip   (BENCH_BACKLOG, default 10000)
  --soak-minutes M      minutes of steady load in the soak phase  (BENCH_SOAK_MINUTES, default 20)
  --soak-capacity D     deliveries/s taken as the product's capacity when the product phase is not in
                        the run (BENCH_SOAK_CAPACITY, default 50); the soak runs at half of it
  --peer-concurrency P  BullMQ worker concurrency                 (BENCH_PEER_CONCURRENCY, default 200)
  --skip-peer           no BullMQ comparison, nor its fault runs  (BENCH_SKIP_PEER=1)
  --profile             CPU profiles of API and worker per product run (BENCH_PROFILE=1)
  --save-baseline       store this run as bench/baseline.json ("before" column of later runs)
  --label TEXT          names this run in the report              (BENCH_LABEL)
  --out FILE            report file                               (BENCH_OUT, default bench/RESULTS.md;
                        with --only, RESULTS.md in the run's /tmp folder)
  --only P1,P2          run only these phases                     (BENCH_ONLY; ${BENCH_PHASES.join(', ')})
Environment: DATABASE_URL (else database xtracker_bench on postgres://postgres@127.0.0.1:5432),
TEMPORAL_ADDRESS (else a Temporal dev server is started), REDIS_URL (default redis://127.0.0.1:6379; the peer-faults
phase starts redis-servers of its own on free loopback ports and never uses it).`;

export function parseOptions(argv: string[], env: Record<string, string | undefined>): BenchOptions {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      console.log(HELP);
      process.exit(0);
    }
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"\n${HELP}`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (inline !== undefined) flags.set(name, inline);
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) flags.set(name, argv[++i]!);
    else flags.set(name, true);
  }
  const known = new Set(['events', 'concurrency', 'fanout', 'raw-requests', 'backlog', 'soak-minutes', 'soak-capacity', 'peer-concurrency', 'skip-peer', 'profile', 'save-baseline', 'label', 'out', 'only']);
  for (const name of flags.keys()) if (!known.has(name)) throw new Error(`unknown option --${name}\n${HELP}`);

  const integer = (flag: string, variable: string, fallback: number, min: number): number => {
    const raw = flags.get(flag) ?? env[variable];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${flag} / ${variable} must be a whole number >= ${min}, got "${String(raw)}"`);
    return value;
  };
  const bool = (flag: string, variable: string): boolean => flags.get(flag) === true || flags.get(flag) === 'true' || env[variable] === '1' || env[variable] === 'true';

  const events = integer('events', 'BENCH_EVENTS', 1000, 1);
  const phases = parsePhases(flags.get('only') ?? env.BENCH_ONLY);
  const saveBaseline = bool('save-baseline', 'BENCH_SAVE_BASELINE');
  const partial = phases.size < BENCH_PHASES.length;
  // A baseline of some phases would leave the "before" column of the others empty.
  if (partial && saveBaseline) throw new Error(`--save-baseline needs every phase; drop --only\n${HELP}`);
  const out = flags.get('out') ?? env.BENCH_OUT;
  if (out === true) throw new Error(`--out needs a file name\n${HELP}`);
  return {
    events,
    concurrency: integer('concurrency', 'BENCH_CONCURRENCY', 32, 1),
    fanout: integer('fanout', 'BENCH_FANOUT', 5, 1),
    rawRequests: integer('raw-requests', 'BENCH_RAW_REQUESTS', Math.max(events, 5000), 1),
    backlog: integer('backlog', 'BENCH_BACKLOG', 10_000, 0),
    soakMinutes: integer('soak-minutes', 'BENCH_SOAK_MINUTES', 20, 1),
    soakCapacity: integer('soak-capacity', 'BENCH_SOAK_CAPACITY', 50, 2),
    peerConcurrency: integer('peer-concurrency', 'BENCH_PEER_CONCURRENCY', 200, 1),
    skipPeer: bool('skip-peer', 'BENCH_SKIP_PEER'),
    profile: bool('profile', 'BENCH_PROFILE'),
    saveBaseline,
    resultsFile: out || 'bench/RESULTS.md',
    resultsFileGiven: out !== undefined && out !== '',
    label: String(flags.get('label') ?? env.BENCH_LABEL ?? ''),
    phases,
    partial,
  };
}

/** `--only noisy,limiter` → those phases; absent or empty → all of them. */
function parsePhases(raw: string | true | undefined): ReadonlySet<BenchPhase> {
  if (raw === true) throw new Error(`--only needs a list of phases: ${BENCH_PHASES.join(', ')}\n${HELP}`);
  if (raw === undefined || raw.trim() === '') return new Set(BENCH_PHASES);
  const picked = new Set<BenchPhase>();
  for (const name of raw.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    if (!(BENCH_PHASES as readonly string[]).includes(name)) throw new Error(`--only: unknown phase "${name}"; phases: ${BENCH_PHASES.join(', ')}`);
    picked.add(name as BenchPhase);
  }
  // In run order, whatever the order given: the report lists them as they ran.
  return new Set(BENCH_PHASES.filter((name) => picked.has(name)));
}
