/*
 * The page's contracts, for its type check (tsconfig.page.json: `checkJs` over public/*.js, no build step): what
 * each plain script puts on `window` for the scripts loaded after it, the player interface, and what the page reads
 * of the server's JSON. The scripts the page and the server share are typed where the server uses them
 * (src/barcode.ts, src/protocol.ts) and reused here.
 */
import type { BarcodeValue as SharedBarcodeValue, SharedBarcode } from '../src/barcode';
import type { SharedProtocol, SoundHeader as SharedSoundHeader, UnitHeader } from '../src/protocol';

declare global {
  type BarcodeValue = SharedBarcodeValue;
  type SoundHeader = SharedSoundHeader;

  /** A rung of the page's ladder (viewer.js): the player's id, and whether it needs a secure page. */
  interface LadderRung {
    readonly player: string;
    readonly secureContext?: boolean;
  }

  /** A wire format as GET /streams lists it (src/server/streams.ts). */
  interface StreamFormat {
    /** The format's id ('fmp4'), what players declare they play. */
    readonly id: string;
    readonly label: string;
    /** Its WebSocket path below the server's prefix ('/fmp4'). */
    readonly path: string;
    /** The sound it carries (src/server/audio-status.ts), absent for a silent format. */
    readonly audio?: {
      readonly codec: string;
      readonly label: string;
      readonly codecString: string;
      readonly sampleRate: number;
      readonly channels: number;
    };
  }

  /** What the page reads of GET /streams (src/server/streams.ts). */
  interface StreamsInfo {
    /** The codec's id ('h264'): for window.pistream only, never compared. */
    readonly codec: string;
    /** The codec for people ('H.264'). */
    readonly codecLabel?: string;
    /** The picture's size in pixels (the canvas is sized to it before the first picture). */
    readonly width?: number;
    readonly height?: number;
    readonly formats: readonly StreamFormat[];
    readonly recordings?: boolean;
    /** The WHEP endpoint's path below the plugin's prefix ('/whep') and the sound it carries, or why the server has none. */
    readonly webrtc?: { readonly path: string; readonly audio?: StreamFormat['audio'] } | { readonly off: string };
  }

  /**
   * A player: how the page plays some wire formats. viewer.js walks the ladder of players and starts the first that
   * plays a format the server sends and whose `check` passes; the core then opens one session per connection.
   */
  interface Player {
    /** What `?player=` names it by, and `window.pistream.player`: 'mse'. */
    readonly id: string;
    /** For sentences in the status line: 'MSE'. */
    readonly name: string;
    /** For the HUD: 'H.264 · MSE'. */
    readonly label: string;
    /** The wire formats (StreamFormat ids) it plays, best first. */
    readonly formats: readonly string[];
    /**
     * Formats carrying the server's sound that it switches to when the viewer turns sound on (the MSE player:
     * 'fmp4-sound'), best first; a player whose own format carries sound has none.
     */
    readonly soundFormats?: readonly string[];
    /**
     * Formats carrying the server's sound alone that it plays beside its own pictures once the viewer turns sound on
     * (the MSE player: 'sound', so its pictures never wait for sound), best first; `playSoundBeside` plays one.
     */
    readonly soundBeside?: readonly string[];
    playSoundBeside?(path: string): void;
    /** Why it cannot play in this browser, or null once it is ready to. */
    check(): Promise<string | null>;
    /**
     * A player that decodes the format's sound itself (WebCodecs): why it cannot here (shown on the speaker button,
     * the picture unaffected), or null.
     */
    soundCheck?(audio: NonNullable<StreamFormat['audio']>): Promise<string | null>;
    /** Adds its own fields to `window.pistream`; called once, before the first session. */
    install(state: PageState): void;
    /** A session for one connection, before its socket opens. */
    open(connection: CoreConnection): PlayerSession;
  }

  /** A player's side of one connection. */
  interface PlayerSession {
    /**
     * A player that brings its own connection (WebRTC) has this: the core calls it with the endpoint's URL instead of
     * opening a socket, and the player reports the connection's open and end (`ViewerCore.opened` / `closed`).
     */
    connect?(url: string): void;
    /** One binary message from the socket. */
    message(data: ArrayBuffer): void;
    /** The connection ended: release everything. */
    close(): void;
  }

  /** One connection, as the core (viewer-core.js) keeps it and players report through. */
  interface CoreConnection {
    socket: WebSocket | null;
    open: boolean;
    openedAt: number;
    lastPictureAt: number;
    /** Pictures its player has taken (decoded, or handed to a decoder or a SourceBuffer, or dropped): what acks count. */
    handled: number;
    acked: number;
    lastAckAt: number;
    ackTimer: number;
    painted: number;
    /** The player's side of this connection. */
    connection: PlayerSession | null;
  }

  /** The state tests and the benchmark read (`window.pistream`); see viewer-core.js. */
  interface PageState {
    status: string;
    unsupported: string | null;
    player: string | null;
    codec: string | null;
    source: string | null;
    camera: boolean;
    reason: string | null;
    healthChecks: number;
    frames: number;
    bytes: number;
    connections: number;
    lastBarcode: { frame: number; time: number; latencyMs: number } | null;
    latencies: number[];
    fps: number;
    kbps: number;
    painted: number;
    paintedFrame: number | null;
    timings: { navigationToOpen: number | null; openToFirstPicture: number | null; openToFirstPaint: number | null };
    sound: SoundState;
  }

  /** The viewer core (viewer-core.js). */
  interface ViewerCore {
    readonly state: PageState;
    readonly canvas: HTMLCanvasElement;
    pageUrl(name: string, socket?: boolean): string;
    /** Starts `player` on `path`; `next` is the ladder's next rung, for `fallBack`. */
    start(player: Player, path: string, next?: (reason: string) => void): void;
    /** Before any picture: ends the player's session and tries the next rung; false once live or with none left. */
    fallBack(reason: string): boolean;
    /** The player goes on at another path (a new connection at once). */
    switchPath(path: string): void;
    unsupported(text: string): void;
    isCurrent(connection: CoreConnection): boolean;
    pictureDecoded(connection: CoreConnection): void;
    barcodeRead(barcode: BarcodeValue | null, decodedAt?: number): number | null;
    painted(connection: CoreConnection, frame: number | null): boolean;
    ack(connection: CoreConnection): void;
    setNote(text: string | null): void;
    /** A player's own connection (see PlayerSession.connect) is up. */
    opened(connection: CoreConnection): void;
    /** A player's own connection ended: the core reconnects after its backoff. */
    closed(connection: CoreConnection): void;
  }

  interface HudOptions {
    readonly state: PageState;
    readonly statsEl: HTMLElement;
    readonly pathEl: HTMLElement | null;
    /** The player's label for the HUD, or null before one is chosen. */
    label(): string | null;
    /** The current connection while live and open, else null (no figures then). */
    liveSession(): CoreConnection | null;
  }

  /** The stats HUD (hud.js). */
  interface Hud {
    /** Every second: the figures over the last one, or nothing while not live. */
    update(): void;
    clear(): void;
    /** The next figures count from now. */
    resetWindow(): void;
    /** A transient word from the player beside its label ("resyncing…"), or null to remove it. */
    setNote(text: string | null): void;
  }

  /** What /healthz answers, as far as the page reads it (src/server/health.ts). */
  interface HealthAnswer {
    readonly status?: string;
    readonly reason?: string;
    readonly source?: string;
    readonly camera?: boolean;
  }

  interface OfflineReasonOptions {
    readonly state: PageState;
    readonly reasonEl: HTMLElement | null;
    healthUrl(): string;
    /** What feeds the stream (state.source) changed. */
    onSource(): void;
  }

  interface OfflineReason {
    start(): void;
    stop(): void;
  }

  // --- the players' own fields on window.pistream ------------------------------------------------------------

  interface JsmpegJoin {
    decodedAtFirstPaint: number;
    firstFrame: number | null;
    catchUpDecodes: number | null;
    frameAfterCatchUp: number | null;
  }

  interface JsmpegState extends PageState {
    paintMode: 'message' | 'frame';
    decodes: { message: number; frame: number; catchUp: number; other: number };
    maxDecodesPerTick: number;
    decoder: 'wasm' | 'js' | null;
    renderer: 'webgl' | 'canvas2d' | null;
    primed: boolean | null;
    paints: { atOnce: number; inFrame: number };
    join: JsmpegJoin | null;
  }

  /** An `/h264` message as the WebCodecs player takes it: its header, and the access unit after it. */
  interface WebCodecsUnit extends UnitHeader {
    readonly data: Uint8Array<ArrayBuffer>;
  }

  /** webcodecs-drop-policy.js: what to do with one unit (see `decide` there). */
  type DropDecision = 'decode' | 'flush' | 'drop-gop' | 'wait-key';

  /** What the drop decision is made from (webcodecs-drop-policy.js); times in ms. */
  interface DropInput {
    readonly key: boolean;
    /** Deltas are undecodable until a key unit. */
    readonly waitKey: boolean;
    /** Units fed to the decoder whose pictures have not come out, and how long it will take for them. */
    readonly queued: number;
    readonly queuedMs: number;
    /** The decoder's time per delta picture, 0 until measured. */
    readonly decodeMs: number;
    /** How long the oldest unit in the decoder has waited (0 when none). */
    readonly oldestWaitMs: number;
    /** How much later than live this unit arrived (a unit of a joining burst, or held up on the way). */
    readonly lateMs: number;
    /** Until the next key unit is due, or null while the GOP's length is not known. */
    readonly nextKeyInMs: number | null;
    /** No unit is fed that would come out later than this after it arrived live. */
    readonly boundMs: number;
  }

  /** webcodecs-drop-policy.js's per-connection state. */
  interface DropPolicy {
    waitKey: boolean;
    readonly decodeMs: number;
    readonly keyMs: number;
    readonly gopMs: number | null;
    readonly keepingUp: boolean;
    readonly lateDrops: number;
    readonly flushes: number;
    readonly lastLate: DropInput | null;
    take(key: boolean, capturedAt: number, now: number): DropDecision;
    fed(key: boolean, now: number): void;
    output(now: number): void;
    cleared(): void;
    resync(): void;
  }

  interface WebCodecsState extends PageState {
    codecString: string | null;
    decodeCalls: number;
    outputs: number;
    decodeLog: { pending: number; live: boolean; gapMs: number }[];
    join: { burstUnits: number | null; firstFrame: number | null } | null;
    skipped: number;
    lateDrops: number;
    flushes: number;
    keepingUp: boolean;
    decodeMs: number;
    lastLateDrop: DropInput | null;
    paintSkips: number;
    resyncs: number;
    decoderErrors: string[];
    barcodeSource: 'copyTo' | 'canvas' | null;
    soundFrames: number;
    soundBytes: number;
    soundErrors: string[];
  }

  /** `window.pistream.mse`: see mse-player.js's install. */
  interface MseStats {
    /** Whether each connection attaches its MediaSource while its socket opens (false with `?prime=off`). */
    primed: boolean;
    /** Which of the two plays. */
    api: 'MediaSource' | 'ManagedMediaSource';
    /** The codec string read from the init segment's avcC ('avc1.42C01E'), null before the first one. */
    codec: string | null;
    /**
     * Messages taken in (all connections); each one is appended, dropped, or still queued or being appended:
     * `received === appended + dropped + pending` at any moment.
     */
    received: number;
    appended: number;
    /** Messages dropped (before a key unit, or from a queue that grew). */
    dropped: number;
    /** appendBuffer calls (one per message, or one for several queued together). */
    appends: number;
    /** Seeks to the live edge (the first of each MediaSource included), and those over a hole in the buffer. */
    seeks: number;
    gapJumps: number;
    /** Buffer trims (SourceBuffer.remove). */
    trims: number;
    /** Fresh MediaSources after an error, QuotaExceededErrors, and the errors' words (last few). */
    reopens: number;
    quotaErrors: number;
    errors: string[];
    /** The latest gap between the buffered end and the playhead (ms), null before playing. */
    gapMs: number | null;
    /** The playback rate now: 1, or faster while catching up with the buffered end. */
    rate: number;
    /** The stream's picture interval, from consecutive fragments' times (ms). */
    frameMs: number | null;
    /** Breaks in the fragments' sequence numbers, and the pictures missing in them. */
    sequenceBreaks: number;
    sequenceMissing: number;
    /** How pictures are counted and read: 'rvfc' (requestVideoFrameCallback) | 'poll' (approximate). */
    frameSource: 'rvfc' | 'poll' | null;
    /** The presented picture's size. */
    width: number;
    height: number;
    /** Messages of the open connection still queued or in the append in progress. */
    readonly pending: number;
  }

  interface MseState extends PageState {
    mse: MseStats;
  }

  /** What the WebRTC player adds to `window.pistream.webrtc`. */
  interface WebRtcStats {
    /** The RTCPeerConnection's connectionState, null before the first. */
    connectionState: string | null;
    /** The WHEP session's URL (its Location), null until answered. */
    session: string | null;
    /** Why the last sessions ended, newest last (at most 10). */
    errors: string[];
    frameSource: 'rvfc' | 'poll' | null;
    /** The jitter buffer target asked for (ms), null where the browser has only playoutDelayHint or nothing. */
    jitterBufferTarget: number | null;
    /** Whether the session brought a sound track (the server has sound and answered the offer's audio). */
    audioTrack: boolean;
  }

  interface WebRtcState extends PageState {
    webrtc: WebRtcStats;
  }

  // --- the MSE player's parts (window.pistreamMse) -----------------------------------------------------------

  /** An ISO BMFF box: where its header starts, where its payload starts, where it ends. */
  interface Mp4Box {
    readonly type: string;
    readonly start: number;
    readonly body: number;
    readonly end: number;
  }

  /** What one fMP4 message holds (mse-boxes.js). */
  interface MseMessageInfo {
    /** It starts with an init segment (a key unit). */
    init: boolean;
    /** 'avc1.PPCCLL' from avcC, and ',mp4a.40.2' after it with a sound track; or null. */
    codec: string | null;
    /** mdhd's timescale, or null. */
    timescale: number | null;
    /** The picture fragment's (the last moof's) decode time (s), when the timescale is known. */
    time: number | null;
    /** The first and the last moof's mfhd sequence numbers (a message with sound has two fragments), or null. */
    sequence: number | null;
    lastSequence: number | null;
  }

  /** A message waiting for the SourceBuffer. */
  interface MseQueued {
    readonly bytes: Uint8Array<ArrayBuffer>;
    readonly init: boolean;
    readonly codec: string | null;
    /** A key unit's time (s): where a later trim may end. */
    readonly keyTime: number | null;
  }

  /** mse-append-queue.js. */
  interface MseAppendQueue {
    /** Oldest first (read only: change it through the methods). */
    readonly items: readonly MseQueued[];
    push(item: MseQueued): void;
    /**
     * Keeps the queue bounded (`appendable`: a SourceBuffer takes appends; before there is one, a joining burst is
     * let in whole). `lost`: everything was dropped, the next message to append must be a key unit.
     */
    bound(appendable: boolean): { dropped: number; lost: boolean };
    /** Drops the messages before the first key unit; returns how many. */
    dropToKey(): number;
    /** Drops everything; returns how many. */
    clear(): number;
    /** Takes the next append: the head and what follows it up to a key unit of another codec than `codec`. */
    takeBatch(codec: string | null): { data: Uint8Array<ArrayBuffer>; items: MseQueued[] };
  }

  /** mse-live-edge.js. */
  interface MseLiveEdge {
    /** Whether this MediaSource was started (sought to its live edge and played). */
    started(): boolean;
    /** `sound`: the SourceBuffer holds sound beside the pictures (the live edge keeps the audio renderer fed). */
    start(sb: SourceBuffer | null, sound: boolean): void;
    keep(sb: SourceBuffer, frameS: number, sound: boolean): void;
    play(): void;
    /** A fresh MediaSource (or a flushed one): not started. */
    reset(): void;
  }

  interface MsePresentedOptions {
    readonly video: HTMLVideoElement;
    /** Where it says how it learns of pictures (requestVideoFrameCallback or polling). */
    readonly stats: { frameSource: 'rvfc' | 'poll' | null };
    /** Whether the poll fallback may count a picture now. */
    ready(): boolean;
    presented(count: number, presentedAt: number, width: number, height: number): void;
  }

  interface MsePresentedWatch {
    /** A fresh MediaSource: its counts start again. */
    reset(): void;
    stop(): void;
  }

  interface PistreamMse {
    inspect(bytes: Uint8Array, timescale: number | null): MseMessageInfo;
    appendQueue(): MseAppendQueue;
    liveEdge(video: HTMLVideoElement, stats: MseStats): MseLiveEdge;
    trimPoint(keyTimes: number[], playhead: number): number | null;
    edgeStep(ranges: number[][], playhead: number, frameS: number, sound?: boolean): { seek: number | null; gap: boolean; rate: number };
    /** mse-sound.js: the server's sound from `path` (/sound) into the page's graph once the speaker button made it. */
    sound: { listen(path: string): void };
    watchPresented(options: MsePresentedOptions): MsePresentedWatch;
    mediaSource: {
      mediaSourceClass(): typeof MediaSource | null;
      isTypeSupported(type: string): boolean;
      mimeOf(codec: string): string;
      ensureVideo(canvas: HTMLCanvasElement): HTMLVideoElement;
      showVideo(canvas: HTMLCanvasElement): void;
      attach(video: HTMLVideoElement, ms: MediaSource): string | null;
      detach(video: HTMLVideoElement, ms: MediaSource, objectUrl: string | null): void;
    };
  }

  // --- Sound (sound.js, av-offset.js, jsmpeg-audio.js) ----------------------------------------------------

  /** One beep's A/V offset (av-offset.js). */
  interface AvOffset {
    /** Sound latency − video latency (ms): positive when the sound comes after its picture. */
    readonly offsetMs: number;
    /** Capture → speaker for the beep, and capture → canvas for the picture shown then (ms). */
    readonly audioMs: number;
    readonly videoMs: number;
    /** When the beep was heard (ms since the epoch). */
    readonly at: number;
  }

  /** `window.pistream.sound`: what tests and the bench read of the page's sound. */
  interface SoundState {
    /** The stream carries sound and the browser has WebAudio: the speaker button is shown. */
    available: boolean;
    /** Why the stream's sound cannot play with this player here (the disabled speaker button's words), or null. */
    problem: string | null;
    muted: boolean;
    /** 0–1, the slider's value. */
    volume: number;
    /** The AudioContext's state ('running'), null before the speaker button was first pressed. */
    context: string | null;
    /** Frames scheduled to play, dropped by the lag allowance, dropped by the trim, and underruns (a frame came late). */
    scheduled: number;
    dropped: number;
    trimmed: number;
    underruns: number;
    /** Sound queued ahead of what played when the last frame was scheduled (ms). */
    queueMs: number;
    /** Beeps measured, the newest offset, and the last ones, oldest first. */
    beeps: number;
    lastOffset: AvOffset | null;
    offsets: AvOffset[];
  }

  interface PageSound {
    offer(has: boolean): void;
    unavailable(why: string): void;
    input(): GainNode | null;
    analyser(): AnalyserNode | null;
    whenReady(then: () => void): void;
  }

  interface AvOffsetMeter {
    shown(latencyMs: number): void;
  }

  interface JsmpegAudioOut {
    readonly enqueuedTime: number;
    skip: boolean;
    play(sampleRate: number, left: Float32Array, right: Float32Array): void;
    destroy(): void;
  }

  /** One connection's sound on the WebCodecs page (webcodecs-sound.js). */
  interface WebCodecsSoundSession {
    update(): void;
    message(buffer: ArrayBuffer, header: SoundHeader): void;
    close(): void;
  }

  interface WebCodecsSoundApi {
    check(audio: NonNullable<StreamFormat['audio']>): Promise<string | null>;
    header(buffer: ArrayBuffer): SoundHeader | null;
    open(connection: CoreConnection): WebCodecsSoundSession;
  }

  /** One MPEG-1 connection as jsmpeg-paint.js decodes and paints it (jsmpeg-player.js' JsmpegConnection). */
  interface JsmpegPaintTarget {
    readonly s: CoreConnection;
    readonly player: JsmpegPlayer;
    /** Whether its renderer was primed at the canvas' size before the socket opened. */
    readonly primed: boolean;
    width: number;
    height: number;
    decoded: number;
    /** The newest decoded picture, not painted yet. */
    pending: { y: Uint8Array; cr: Uint8Array; cb: Uint8Array; isClamped: boolean; frame: number | null } | null;
    painted: number;
    join: JsmpegJoin | null;
    catchUpPending: boolean;
    catchUpTimer: number;
    catchUpFrame: number;
    frameLoop: number;
    /** paint=message: the animation frame an earlier paint waits for (0: none). */
    paintFrame: number;
  }

  /** jsmpeg-paint.js: when the MPEG-1 player's pictures are decoded and painted. */
  interface JsmpegPaint {
    /** 'message' (the default) or 'frame' (`?paint=frame`). */
    readonly mode: 'message' | 'frame';
    /** The bound on one go's decoding (pictures; the sound's too). */
    readonly maxDecodesPerTick: number;
    /** Takes decoding and painting over from the connection's JSMpeg player. */
    install(c: JsmpegPaintTarget, player: JsmpegPlayer): void;
    /** A message: `deliver` hands it to the demuxer, then its pictures are decoded and the newest painted. */
    message(c: JsmpegPaintTarget, deliver: () => void): void;
    /** Stops every timer and frame callback of the connection's decoding and painting. */
    stop(c: JsmpegPaintTarget): void;
  }

  interface JsmpegAudioApi {
    readonly maxLagMs: number;
    output(): JsmpegAudioOut;
  }

  // --- JSMpeg (@cycjimmy/jsmpeg-player), as far as the page uses it -----------------------------------------

  interface JsmpegDestination {
    write(data: ArrayBuffer): void;
  }

  interface JsmpegVideoDecoder {
    bufferGetIndex(): number;
    decode(): boolean;
    connect(destination: {
      resize(width: number, height: number): void;
      render(y: Uint8Array, cr: Uint8Array, cb: Uint8Array, isClamped: boolean): void;
    }): void;
  }

  interface JsmpegRenderer {
    /** The size it draws at (its last `resize`, or the canvas's when made). */
    readonly width: number;
    readonly height: number;
    /** WebGL only: which texture units hold an allocated texture (allocated at the first draw after a reset). */
    hasTextureData?: Record<number, boolean>;
    render(y: Uint8Array, cr: Uint8Array, cb: Uint8Array, isClamped: boolean): void;
    resize(width: number, height: number): void;
    renderProgress(progress: number): void;
  }

  interface JsmpegSource {
    established: boolean;
    progress: number;
    destination: JsmpegDestination | null;
  }

  /** JSMpeg's MP2 decoder (JS or WASM). */
  interface JsmpegAudioDecoder {
    decode(): boolean;
    connect(destination: JsmpegAudioOut): void;
    destroy(): void;
  }

  interface JsmpegPlayerOptions {
    source: new () => JsmpegSource;
    canvas: HTMLCanvasElement;
    audio: boolean;
    videoBufferSize: number;
    audioBufferSize: number;
    disableWebAssembly: boolean;
    decodeFirstFrame: boolean;
    pauseWhenHidden: boolean;
    /** Set by the Player's constructor. */
    streaming?: boolean;
    wasmModule?: JsmpegWasmModule;
  }

  interface JsmpegPlayer {
    readonly source: JsmpegSource;
    readonly demuxer: { connect(streamId: number, destination: JsmpegAudioDecoder): void };
    readonly video: JsmpegVideoDecoder;
    readonly renderer: JsmpegRenderer;
    pause(): void;
    destroy(): void;
    updateForStreaming(): void;
  }

  interface JsmpegWasmModule {
    ready: boolean;
    loadFromBuffer(buffer: ArrayBuffer, callback: (module: unknown) => void): void;
  }

  interface JsmpegApi {
    Player: new (url: string, options: JsmpegPlayerOptions) => JsmpegPlayer;
    Decoder: {
      MPEG1VideoWASM: new (...args: never[]) => unknown;
      MP2Audio: new (options: JsmpegPlayerOptions) => JsmpegAudioDecoder;
      MP2AudioWASM: new (options: JsmpegPlayerOptions) => JsmpegAudioDecoder;
    };
    Demuxer: {
      TS: {
        new (options: JsmpegPlayerOptions): {
          connect(streamId: number, destination: JsmpegAudioDecoder): void;
          write(data: ArrayBuffer): void;
        };
        STREAM: { AUDIO_1: number };
      };
    };
    Renderer: { WebGL: new (...args: never[]) => unknown };
    WASMModule?: { GetModule?(): JsmpegWasmModule | undefined };
    WASM_BINARY_INLINED?: string;
    Base64ToArrayBuffer(base64: string): ArrayBuffer;
  }

  /** jsmpeg-wasm.js. */
  interface JsmpegWasm {
    /** Compiles JSMpeg's WASM decoder (once), then calls `then`. */
    prepare(then: () => void): void;
    /** Whether it could not be compiled (JSMpeg then decodes in JS). */
    failed(): boolean;
  }

  interface Window {
    pistreamWebCodecsSupport: {
      /** Whether VideoDecoder takes `codec` with optimizeForLatency (asked once per codec string). */
      ask(codec: string): Promise<boolean>;
      /** The answer, when the browser has given it. */
      known(codec: string): boolean | undefined;
    };
    pistreamFrameBarcode(frame: VideoFrame, then: (barcode: BarcodeValue | null, how: 'copyTo' | 'canvas') => void): void;
    pistreamJsmpegWasm: JsmpegWasm;
    pistreamJsmpegPaint: JsmpegPaint;
    pistreamSound: PageSound;
    pistreamAvOffset: AvOffsetMeter;
    pistreamJsmpegAudio: JsmpegAudioApi;
    pistreamWebCodecsSound: WebCodecsSoundApi;
    /** Older Safari: AudioContext under its old name. */
    webkitAudioContext?: typeof AudioContext;
    /** The page's state (viewer-core.js). */
    pistream: PageState;
    pistreamViewer: ViewerCore;
    pistreamPlayers: Record<string, Player>;
    pistreamMse: PistreamMse;
    pistreamDropPolicy: {
      decide(input: DropInput): DropDecision;
      DropPolicy: new () => DropPolicy;
      readonly MAX_LATE_MS: number;
    };
    pistreamBarcode: SharedBarcode;
    pistreamProtocol: SharedProtocol;
    pistreamHud(options: HudOptions): Hud;
    pistreamOfflineReason(options: OfflineReasonOptions): OfflineReason;
    pistreamFullscreen(button: HTMLElement, target: HTMLElement): void;
    pistreamStripBarcode(source: CanvasImageSource, width: number, height: number): BarcodeValue | null;
    JSMpeg: JsmpegApi | undefined;
    /** Safari on iPhone: MSE under another name. */
    ManagedMediaSource?: typeof MediaSource;
  }

  interface Document {
    readonly webkitFullscreenElement?: Element | null;
    webkitExitFullscreen?(): Promise<void> | void;
  }

  interface HTMLElement {
    webkitRequestFullscreen?(): Promise<void> | void;
  }

  interface HTMLVideoElement {
    /** Safari's (and the spec's) switch against AirPlay hand-off. */
    disableRemotePlayback: boolean;
  }
}
