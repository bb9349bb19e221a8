import { seededRandom } from "../random.js";
import { RowBuilder, type Attack, type LabelledSet } from "./labelled.js";
import { spikeKey } from "./synthetic.js";

/**
 * Labelled sets built differently from the synthetic week (which draws every user at a few failures an hour from
 * random IPs): users here fail rarely, in bursts of typos, mostly behind a few corporate NAT addresses and on
 * weekdays; attacks are spread over hours or days and over many IPs and principals. Deterministic for a seed.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

interface Workforce {
  users: string[];
  /** Adds every user's ordinary failures for one hour. */
  hour: (at: number, dayOff: boolean) => void;
}

/** Users who fail now and then (a mistyped password, an expired token), at work behind NAT, otherwise from home. */
function workforce(b: RowBuilder, random: () => number, count: number, domain: string, natIps: string[]): Workforce {
  const users = Array.from({ length: count }, (_, i) => `user${i}@${domain}`);
  const home = users.map((_, i) => `203.0.113.${(i % 250) + 1}`);
  const onSite = users.map(() => random() < 0.7);
  const hour = (at: number, dayOff: boolean): void => {
    const h = new Date(at).getUTCHours();
    const working = !dayOff && h >= 8 && h < 18;
    const rate = working ? 0.03 : dayOff ? 0.003 : 0.004;
    users.forEach((user, i) => {
      if (random() >= rate) return;
      const ip = working && onSite[i] ? b.pick(natIps) : home[i]!;
      b.add("entra-user", random() < 0.8 ? "Azure Machine Learning" : "Azure Portal", user, ip, at, 1 + b.poisson(0.8));
    });
  };
  return { users, hour };
}

const isWeekend = (at: number): boolean => [0, 6].includes(new Date(at).getUTCDay());

/**
 * "enterprise-fortnight": two weeks of a 150-person tenant (Monday 5 October 2026 onward). Benign: NAT addresses shared
 * by many users, a password-expiry Monday (25 users failing 3–6 times in two hours), steady noisy service principals.
 * Attacks: botnet credential stuffing (400 IPs, 250 principals, 1–2 attempts each, six hours at night), a low-and-slow
 * spray (60 rotating IPs, about 9 principals an hour, two days), a new principal failing about once an hour for four
 * days, a slow ramp of a storage principal over six days, brute force on an online endpoint.
 */
export function enterpriseFortnight(seed = 1): LabelledSet {
  const random = seededRandom(seed * 7919 + 17);
  const b = new RowBuilder(random);
  const start = Date.parse("2026-10-05T00:00:00Z");
  const end = start + 14 * DAY_MS;
  const day = (n: number, hour = 0): number => start + n * DAY_MS + hour * HOUR_MS;
  const nat = ["198.18.0.10", "198.18.0.11", "198.18.0.12"];
  const staff = workforce(b, random, 150, "fabrikam.example", nat);
  const invented = Array.from({ length: 300 }, (_, i) => `${["anna", "ben", "chen", "dana", "emil", "fay"][i % 6]}.${i}@fabrikam.example`);
  const attacks: Attack[] = [];
  const sprayKeys = (ips: Iterable<string>, victims: Iterable<string>, target: string): string[] => [spikeKey("entra-user", target, "*"), ...[...ips].map((ip) => spikeKey("entra-user", "*", ip)), ...[...victims].map((v) => spikeKey("entra-user", target, v))];

  for (let at = start; at < end; at += HOUR_MS) {
    staff.hour(at, isWeekend(at));
    for (let s = 0; s < 4; s++) b.add("entra-service-principal", "Azure Storage", `sp-feature-store-${s}`, `10.20.0.${s + 4}`, at, b.poisson(12 + 6 * s));
    for (let m = 0; m < 3; m++) b.add("entra-managed-identity", "Azure Key Vault", `mi-endpoint-${m}`, "", at, b.poisson(0.2));
    for (let e = 0; e < 3; e++) b.add("aml-online-endpoint", `mlw-prod/endpoint-${e}`, "authType:key", "", at, b.poisson(0.4));
    for (let s = 0; s < 5; s++) b.add("storage-blob", "stmlprod", `svc-etl-${s}`, `10.30.0.${s + 4}`, at, b.poisson(1.5));
  }
  // Benign: passwords expired over the weekend; Monday morning 25 people retry the old one from the office.
  for (let i = 0; i < 25; i++) b.add("entra-user", "Azure Machine Learning", staff.users[i * 5]!, b.pick(nat), day(7, 9 + Math.floor(random() * 2)), 3 + Math.floor(random() * 4));

  // Botnet credential stuffing: Wednesday of week two, 01:00–07:00.
  const bots = Array.from({ length: 400 }, (_, i) => `100.64.${Math.floor(i / 200)}.${(i % 200) + 10}`);
  const pool = [...staff.users.slice(0, 120), ...invented.slice(0, 130)];
  const stuffed = new Set<string>();
  const usedBots = new Set<string>();
  for (let h = 1; h < 7; h++) {
    for (let n = 0; n < 70; n++) {
      const bot = b.pick(bots);
      usedBots.add(bot);
      for (let t = 1 + Math.floor(random() * 2); t > 0; t--) {
        const victim = b.pick(pool);
        stuffed.add(victim);
        b.add("entra-user", "Azure Machine Learning", victim, bot, day(9, h), 1);
      }
    }
  }
  attacks.push({ scenario: "credential-stuffing", keys: sprayKeys(usedBots, stuffed, "Azure Machine Learning"), start: new Date(day(9, 1)), end: new Date(day(9, 7)) });

  // Low-and-slow spray against the portal: Thursday and Friday, 3 of 60 IPs an hour, 3 principals each, once each.
  const sprayIps = Array.from({ length: 60 }, (_, i) => `198.51.100.${i + 10}`);
  const sprayed = new Set<string>();
  const usedSprayIps = new Set<string>();
  let next = 0;
  for (let at = day(10); at < day(12); at += HOUR_MS) {
    for (let n = 0; n < 3; n++) {
      const ip = b.pick(sprayIps);
      usedSprayIps.add(ip);
      for (let v = 0; v < 3; v++) {
        const victim = next % 2 ? invented[(next * 7) % invented.length]! : staff.users[(next * 11) % staff.users.length]!;
        next++;
        sprayed.add(victim);
        b.add("entra-user", "Azure Portal", victim, ip, at, 1);
      }
    }
  }
  attacks.push({ scenario: "low-and-slow-spray", keys: sprayKeys(usedSprayIps, sprayed, "Azure Portal"), start: new Date(day(10)), end: new Date(day(12)) });

  // A principal never seen before, failing about once an hour for four days against a vault.
  const newcomer = "3f9c2a71-5b8e-4d0a-9c61-7e2f4b8d1a05";
  for (let at = day(8, 15); at < day(12, 15); at += HOUR_MS) b.add("key-vault", "kv-ml-prod", newcomer, "203.0.113.250", at, 1 + (random() < 0.15 ? 1 : 0));
  attacks.push({ scenario: "persistent-newcomer", keys: [spikeKey("key-vault", "kv-ml-prod", newcomer)], start: new Date(day(8, 15)), end: new Date(day(12, 15)) });

  // A slow ramp: svc-etl-2's failures climb from its usual 1.5 an hour to about 21 an hour over six days.
  for (let at = day(8); at < end; at += HOUR_MS) b.add("storage-blob", "stmlprod", "svc-etl-2", "10.30.0.6", at, b.poisson((20 * (at - day(8))) / (6 * DAY_MS)));
  attacks.push({ scenario: "slow-ramp", keys: [spikeKey("storage-blob", "stmlprod", "svc-etl-2")], start: new Date(day(8)), end: new Date(end) });

  // Brute force on an endpoint key: one afternoon hour.
  b.add("aml-online-endpoint", "mlw-prod/endpoint-1", "authType:key", "", day(11, 14), 60);
  attacks.push({ scenario: "brute-force", keys: [spikeKey("aml-online-endpoint", "mlw-prod/endpoint-1", "authType:key")], start: new Date(day(11, 14)), end: new Date(day(11, 15)) });

  return {
    name: `enterprise-fortnight (seed ${seed})`,
    generator: "src/spikes/labelled-sets.ts enterpriseFortnight: rare typo bursts behind NAT, attacks spread over many IPs and principals",
    rows: b.build(),
    attacks,
    benign: [
      ...[0, 1, 2, 3].map((s) => ({ scenario: "noisy-steady", key: spikeKey("entra-service-principal", "Azure Storage", `sp-feature-store-${s}`) })),
      ...Array.from({ length: 25 }, (_, i) => ({ scenario: "password-expiry", key: spikeKey("entra-user", "Azure Machine Learning", staff.users[i * 5]!) })),
    ],
  };
}

/**
 * "holiday-month": three weeks of a 120-person tenant (Monday 9 November to Tuesday 1 December 2026) with weekends
 * and Thanksgiving (26–27 November) quiet. Benign: a CI identity whose failure rate rises 2.5-fold after a deploy and
 * stays there, a nightly training job failing in a burst at 02:00, the return to work on Monday 30 November, steady
 * noisy principals. Attacks: a user's failures ramping over six days, a storage principal ramping across the holiday,
 * a password spray from one IP during the holiday night, brute force on a user the Monday after, a new principal
 * failing once an hour for three days.
 */
export function holidayMonth(seed = 1): LabelledSet {
  const random = seededRandom(seed * 104729 + 3);
  const b = new RowBuilder(random);
  const start = Date.parse("2026-11-09T00:00:00Z");
  const end = start + 22 * DAY_MS;
  const at = (iso: string): number => Date.parse(iso);
  const holidays = new Set(["2026-11-26", "2026-11-27"]);
  const dayOff = (t: number): boolean => isWeekend(t) || holidays.has(new Date(t).toISOString().slice(0, 10));
  const staff = workforce(b, random, 120, "northwind.example", ["198.18.1.10", "198.18.1.11"]);
  const deploy = at("2026-11-18T14:00:00Z");
  const attacks: Attack[] = [];

  for (let t = start; t < end; t += HOUR_MS) {
    const off = dayOff(t);
    const hour = new Date(t).getUTCHours();
    staff.hour(t, off);
    const ciRate = (!off && hour >= 7 && hour < 19 ? 15 : 4) * (t >= deploy ? 2.5 : 1);
    b.add("entra-service-principal", "Azure Machine Learning", "sp-ci-deploy", "10.40.0.5", t, b.poisson(ciRate));
    b.add("storage-blob", "stmlprod", "sp-nightly-train", "10.40.0.9", t, b.poisson(hour === 2 ? 45 : 0.3));
    for (let s = 0; s < 2; s++) b.add("entra-service-principal", "Azure Storage", `sp-sync-${s}`, `10.40.1.${s + 4}`, t, b.poisson(20));
    for (let e = 0; e < 2; e++) b.add("aml-online-endpoint", `mlw-research/endpoint-${e}`, "authType:aad_token", "", t, b.poisson(0.3));
    b.add("storage-blob", "stmlarchive", "svc-archive", "10.40.2.4", t, b.poisson(0.5));
  }

  // A user's failures ramp from almost none to about 18 an hour over six days, then stay there.
  const ramp1 = at("2026-11-16T00:00:00Z");
  for (let t = ramp1; t < end; t += HOUR_MS) b.add("entra-user", "Azure Portal", "ramp.user@northwind.example", "192.0.2.44", t, b.poisson(0.2 + 18 * Math.min(1, (t - ramp1) / (6 * DAY_MS))));
  attacks.push({ scenario: "slow-ramp", keys: [spikeKey("entra-user", "Azure Portal", "ramp.user@northwind.example")], start: new Date(ramp1), end: new Date(end) });

  // A storage principal ramps from 0.5 to about 25 an hour across the holiday, when everything else goes quiet.
  const ramp2 = at("2026-11-23T00:00:00Z");
  for (let t = ramp2; t < end; t += HOUR_MS) b.add("storage-blob", "stmlarchive", "svc-archive", "10.40.2.4", t, b.poisson(24 * Math.min(1, (t - ramp2) / (6 * DAY_MS))));
  attacks.push({ scenario: "slow-ramp", keys: [spikeKey("storage-blob", "stmlarchive", "svc-archive")], start: new Date(ramp2), end: new Date(end) });

  // A password spray from one IP in the holiday night: 40 principals, once or twice each.
  const sprayAt = at("2026-11-26T03:00:00Z");
  const victims = staff.users.slice(40, 80);
  for (const victim of victims) b.add("entra-user", "Azure Machine Learning", victim, "203.0.113.77", sprayAt, 1 + Math.floor(random() * 2));
  attacks.push({ scenario: "spray", keys: [spikeKey("entra-user", "*", "203.0.113.77"), spikeKey("entra-user", "Azure Machine Learning", "*"), ...victims.map((v) => spikeKey("entra-user", "Azure Machine Learning", v))], start: new Date(sprayAt), end: new Date(sprayAt + HOUR_MS) });

  // Brute force on one user the Monday after the holiday, from two addresses.
  const bruteAt = at("2026-11-30T09:00:00Z");
  b.add("entra-user", "Azure Machine Learning", staff.users[7]!, "192.0.2.201", bruteAt, 20);
  b.add("entra-user", "Azure Machine Learning", staff.users[7]!, "192.0.2.202", bruteAt, 15);
  attacks.push({ scenario: "brute-force", keys: [spikeKey("entra-user", "Azure Machine Learning", staff.users[7]!)], start: new Date(bruteAt), end: new Date(bruteAt + HOUR_MS) });

  // A principal never seen before, failing once an hour for three days against another vault.
  const newcomerAt = at("2026-11-20T06:00:00Z");
  for (let t = newcomerAt; t < newcomerAt + 3 * DAY_MS; t += HOUR_MS) b.add("key-vault", "kv-finance", "app-legacy-report", "10.40.3.7", t, 1);
  attacks.push({ scenario: "persistent-newcomer", keys: [spikeKey("key-vault", "kv-finance", "app-legacy-report")], start: new Date(newcomerAt), end: new Date(newcomerAt + 3 * DAY_MS) });

  return {
    name: `holiday-month (seed ${seed})`,
    generator: "src/spikes/labelled-sets.ts holidayMonth: weekends and Thanksgiving quiet, a CI rate change after a deploy, nightly bursts",
    rows: b.build(),
    attacks,
    benign: [
      { scenario: "ci-rate-change", key: spikeKey("entra-service-principal", "Azure Machine Learning", "sp-ci-deploy") },
      { scenario: "nightly-burst", key: spikeKey("storage-blob", "stmlprod", "sp-nightly-train") },
      ...[0, 1].map((s) => ({ scenario: "noisy-steady", key: spikeKey("entra-service-principal", "Azure Storage", `sp-sync-${s}`) })),
    ],
  };
}
