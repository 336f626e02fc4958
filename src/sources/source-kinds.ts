/**
 * The one registry of source kinds: what `--source` and `{ source: { kind } }` may name, how each is written on
 * the command line, and the facts other parts ask about a kind (is it a camera; does it draw the barcode). Every
 * list of kinds, pattern and wording outside src/sources reads them from here.
 */

/** One kind of source. */
export interface SourceKindInfo {
  /** Its name in options and on the command line. */
  readonly id: string;
  /**
   * What the text after `KIND:` on the command line sets (`v4l2:/dev/video1`, `file:demo.mp4`), and whether it
   * must be given; absent: the kind takes no argument.
   */
  readonly argument?: { readonly key: 'device' | 'path'; readonly placeholder: string; readonly required: boolean };
  /** A camera (the page and the logs say "camera" for these; a file or the test pattern is "the source"). */
  readonly camera: boolean;
  /** The test pattern, which draws the machine-readable barcode the page reads latency from. */
  readonly barcode: boolean;
}

/**
 * Every source kind, in the order `--help` lists them (`auto` first: the default).
 * @example
 * SOURCE_KINDS.map((k) => k.id); // ['auto', 'test', 'rpicam', 'libcamera', 'raspivid', 'v4l2', 'file']
 */
export const SOURCE_KINDS = [
  { id: 'auto', camera: false, barcode: false },
  { id: 'test', camera: false, barcode: true },
  { id: 'rpicam', camera: true, barcode: false },
  { id: 'libcamera', camera: true, barcode: false },
  { id: 'raspivid', camera: true, barcode: false },
  { id: 'v4l2', camera: true, barcode: false, argument: { key: 'device', placeholder: 'DEVICE', required: false } },
  { id: 'file', camera: false, barcode: false, argument: { key: 'path', placeholder: 'PATH', required: true } },
] as const satisfies readonly SourceKindInfo[];

/** A source kind's name: `'auto' | 'test' | 'rpicam' | …`. */
export type SourceKindId = (typeof SOURCE_KINDS)[number]['id'];

/** The kinds' names, for schemas and messages. */
export const SOURCE_KIND_IDS: readonly SourceKindId[] = SOURCE_KINDS.map((kind) => kind.id);

/** The kind a configuration without a source opens: the first that works here. */
export const DEFAULT_SOURCE_KIND: SourceKindId = 'auto';

/**
 * The registry entry of a kind, or undefined for a name that is none (`'observable'`, `'hub'`, a typo).
 * @example
 * sourceKind('v4l2')?.camera; // true
 */
export function sourceKind(id: string): SourceKindInfo | undefined {
  return (SOURCE_KINDS as readonly SourceKindInfo[]).find((kind) => kind.id === id);
}

/**
 * Whether a kind (as the hub's opener reports it) is a camera, for wording: "camera offline" vs "stream offline".
 * @example
 * isCameraKind('rpicam'); // true
 * isCameraKind('file'); // false
 */
export function isCameraKind(id: string): boolean {
  return sourceKind(id)?.camera ?? false;
}

/**
 * Whether a kind is the test pattern, whose frames carry the barcode the page reads latency from.
 * @example
 * drawsBarcode('test'); // true
 */
export function drawsBarcode(id: string): boolean {
  return sourceKind(id)?.barcode ?? false;
}

/** How each kind is written on the command line: `auto`, `v4l2[:DEVICE]`, `file:PATH`. */
function syntaxOf(kind: SourceKindInfo): string {
  if (!kind.argument) return kind.id;
  return kind.argument.required ? `${kind.id}:${kind.argument.placeholder}` : `${kind.id}[:${kind.argument.placeholder}]`;
}

/**
 * The kinds as `--source` takes them, for help and messages.
 * @example
 * SOURCE_SYNTAX; // 'auto, test, rpicam, libcamera, raspivid, v4l2[:DEVICE] or file:PATH'
 */
export const SOURCE_SYNTAX: string = (() => {
  const all = SOURCE_KINDS.map(syntaxOf);
  return `${all.slice(0, -1).join(', ')} or ${all[all.length - 1]}`;
})();

/**
 * What `--source` text names, as a spec's kind and argument, or undefined when it names no kind (or leaves out a
 * required argument, or gives one to a kind that takes none).
 * @example
 * parseSourceText('v4l2:/dev/video1'); // { kind: 'v4l2', device: '/dev/video1' }
 * parseSourceText('file'); // undefined: file needs a path
 */
export function parseSourceText(text: string): { kind: SourceKindId; device?: string; path?: string } | undefined {
  const colon = text.indexOf(':');
  const kind = sourceKind(colon < 0 ? text : text.slice(0, colon));
  if (!kind) return undefined;
  const rest = colon < 0 ? undefined : text.slice(colon + 1);
  const id = kind.id as SourceKindId;
  if (!kind.argument) return rest === undefined ? { kind: id } : undefined;
  if (rest === undefined) return kind.argument.required ? undefined : { kind: id };
  return rest === '' ? undefined : { kind: id, [kind.argument.key]: rest };
}

/**
 * A source spec as `--source` writes it, for messages: `file:/tmp/a.mp4`, `v4l2:/dev/video1`, `v4l2`, `rpicam`.
 * @example
 * sourceText({ kind: 'file', path: 'demo.mp4', hflip: true }); // 'file:demo.mp4'
 */
export function sourceText<S extends { readonly kind: string; readonly device?: string; readonly path?: string }>(spec: S): string {
  const argument = sourceKind(spec.kind)?.argument;
  if (!argument) return spec.kind;
  const value = spec[argument.key];
  return value === undefined && !argument.required ? spec.kind : `${spec.kind}:${value ?? ''}`;
}
