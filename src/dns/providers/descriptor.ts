/**
 * What certfleet knows about a DNS-01 provider apart from its code (lego keeps the same facts in
 * each `providers/dns/<name>/` folder): its name, its keys in a `[dns:*]` section and how they
 * are parsed, the secret files it reads, the servers it writes to, and how to load it. Each
 * provider has one folder, `<name>/descriptor.ts` beside `<name>/provider.ts`, and registry.ts
 * lists the descriptors.
 *
 * A descriptor holds types and pure functions only, because the config reader imports it on
 * every run. The implementation is imported inside `load`, so a night with nothing due loads
 * none of it. The config reader passes in what a descriptor needs to read keys and report
 * problems, so dns/ never imports config/ (issue 11).
 */
import type { DnsServer } from '../transport.ts';
import type { DnsRecordProvider } from './provider.ts';

/** A key's value as written (after `%` interpolation), and where it was written. */
export interface KeyValue {
  entry: { line: number; rawKey: string };
  value: string;
}

/** Where problems with lematt.conf go, by line. */
export interface ConfigProblems {
  error(line: number, message: string): void;
  warning(line: number, message: string): void;
}

/** What the config reader gives a descriptor to parse one `[dns:*]` section with. */
export interface SectionInput {
  /** `[dns:internal]`, for messages. */
  where: string;
  /** Line of the section header, for problems that belong to no key. */
  line: number;
  /** A key of the section (canonical spelling), or undefined when it is absent or unreadable. */
  read(key: string): KeyValue | undefined;
  /**
   * A key that must be there with a value. When it is absent, reports `<where>: <key> is
   * required with provider <name> (<why>)`; when it is empty, `<key>: empty value`. Either way
   * returns undefined.
   */
  required(key: string, why: string): KeyValue | undefined;
  /** A number of seconds > 0 from `key`, or `fallback` when the key is absent; reports anything else. */
  seconds(key: string, fallback: number): number;
  /**
   * Asks for the file `found` names (relative to the working directory) to be read before any
   * network call; its text then goes to the descriptor's `secretFiles[key]`. Returns the file's
   * absolute path.
   */
  secretFile(key: string, found: KeyValue): string;
  report: ConfigProblems;
}

/** Where a secret file's problems go. Messages are whole and never quote the secret. */
export interface SecretFileProblems {
  /** `tsigSecretFile: "tsig.key"`: the key and the path as written, to start messages with. */
  where: string;
  error(message: string): void;
  warning(message: string): void;
}

/**
 * Checks the text of a secret file and, when its section parsed without errors (`settings` is
 * not null), fills what the file holds into `settings`.
 */
export type SecretFileReader<S> = (text: string, settings: S | null, problems: SecretFileProblems) => void;

/** One DNS-01 provider as config parsing, the solver and the registry see it. */
export interface DnsProviderDescriptor<S extends { kind: string }> {
  /** The `provider:` value that selects it; also the `kind` of its settings. */
  readonly name: S['kind'];
  /** Its keys in a `[dns:*]` section (canonical spelling), besides those every section takes. */
  readonly keys: readonly string[];
  /**
   * Reads its keys from `input` and returns its settings, or null after reporting what is missing
   * or wrong. Secrets from files are filled in later, by `secretFiles`.
   */
  parse(input: SectionInput): S | null;
  /** The readers of the secret files its keys may name, by key (canonical spelling). */
  readonly secretFiles?: Readonly<Record<string, SecretFileReader<S>>>;
  /**
   * The servers it writes records to, which may be hidden primaries (no NS record). The first is
   * asked for CNAMEs, zones and NS records (it is authoritative, so it answers without
   * recursion), and each is checked for the record unless `nameservers` is set.
   */
  serversToCheck?(settings: S): DnsServer[];
  /** Imports the implementation and creates a provider for `settings`. Throws only if the module cannot be loaded. */
  load(settings: S): Promise<DnsRecordProvider>;
}
