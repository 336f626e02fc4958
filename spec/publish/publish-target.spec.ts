import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import type { ChildProcess } from 'node:child_process';
import fc from 'fast-check';
import { Subject, VirtualTimeScheduler } from 'rxjs';
import { parseConfig, ConfigError } from '../../src/config/command-line';
import { splitPublishUrls } from '../../src/config/flag-values';
import { validatePluginOptions } from '../../src/options/plugin-options';
import type { Picture } from '../../src/picture';
import type { SpawnFn } from '../../src/process/child-process';
import { publishArgs, publishedAudio } from '../../src/publish/publish-args';
import { publishTarget, redactUrl } from '../../src/publish/publish-target';
import { redactIn } from '../../src/publish/url-secrets';
import { Publisher, progressReports } from '../../src/publish/publisher';
import { from, toArray, firstValueFrom } from 'rxjs';

describe('redactUrl', () => {
  it.each([
    ['rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl', 'rtmp://a.rtmp.youtube.com/live2/***'],
    ['rtmps://user:pass@live.example.com:443/app/key?token=t', 'rtmps://***@live.example.com:443/app/***?***'],
    ['srt://10.0.0.2:9000?streamid=#!::r=cam,m=publish&passphrase=secret', 'srt://10.0.0.2:9000?***'],
    ['rtsp://admin:pw@cam.local:8554/mystream', 'rtsp://***@cam.local:8554/***'],
    ['rtmp://host/live/', 'rtmp://host/live/***'],
    ['rtmp://u:pa/ss@h/app/key', 'rtmp://***@h/app/***'],
    ['rtsp://cam.local:8554/s3cret/stream', 'rtsp://cam.local:8554/***'],
    ['srt://h:9000?passphrase=s3cret-pass', 'srt://h:9000?***'],
    ['rtmp://host', 'rtmp://host'],
    ['not a url with key', '***'],
  ])('%s → %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it('redactIn hides the URL and each secret piece ffmpeg may quote in another shape', () => {
    const url = 'srt://u:pa/ss@h:9000/p4th?passphrase=s3cret-pass&streamid=cam';
    const text = `${url}: Connection refused | passphrase s3cret-pass rejected | /p4th | user u:pa/ss`;
    const shown = redactIn(text, url);
    for (const secret of ['s3cret-pass', 'pa/ss', 'p4th', 'streamid=cam']) expect(shown).not.toContain(secret);
    expect(shown).toContain('srt://***@h:9000/***?***: Connection refused');
  });

  it('never shows a password with any characters, the path or the query (property)', () => {
    const secret = fc.stringMatching(/^[A-Za-z0-9_\-/:@.]{6,20}$/);
    fc.assert(
      fc.property(fc.constantFrom('rtmp', 'rtmps', 'srt', 'rtsp'), secret, secret, (scheme, pass, query) => {
        const url = `${scheme}://user:${pass}@host.example:1935/app/key1234?k=${query}`;
        const shown = redactUrl(url);
        expect(shown).not.toContain(pass);
        expect(shown).not.toContain(query);
        expect(shown).not.toContain('key1234');
        expect(redactIn(`failed: ${url}`, url)).not.toContain(pass);
      }),
    );
  });

  it('never shows the user info, the query or the path but an RTMP app (property)', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9_-]{6,20}$/);
    fc.assert(
      fc.property(fc.constantFrom('rtmp', 'rtmps', 'srt', 'rtsp'), word, word, word, word, (scheme, user, pass, key, query) => {
        const shown = redactUrl(`${scheme}://${user}:${pass}@host.example:1935/app/${key}?k=${query}`);
        for (const secret of [user, pass, key, query]) expect(shown).not.toContain(secret);
        expect(shown).toBe(`${scheme}://***@host.example:1935/${scheme.startsWith('rtmp') ? 'app/' : ''}***?***`);
      }),
    );
  });
});

describe('publishTarget and publishArgs', () => {
  it('copies H.264 into FLV with silent AAC for rtmp, the URL last (and only there)', () => {
    const target = publishTarget('rtmp://127.0.0.1:1935/live/key');
    const args = publishArgs(target, { codec: 'h264', fps: 24 }, 5000);
    expect(args.join(' ')).toContain('-f h264 -framerate 24 -i pipe:0 -f lavfi -i anullsrc=channel_layout=mono:sample_rate=44100');
    expect(args.join(' ')).toContain('-c:v copy -c:a aac');
    expect(args.join(' ')).toContain('-f flv -flvflags no_duration_filesize -rw_timeout 5000000');
    expect(args.filter((a) => a.includes('key'))).toEqual([target.url]);
    expect(args[args.length - 1]).toBe(target.url);
    expect(args).not.toContain('-timeout');
  });

  it("with the server's sound: its AAC from fd 3 instead of the silent track, the muxer waiting at most 0.5 s for it", () => {
    const args = publishArgs(publishTarget('rtmp://h/a/k'), { codec: 'h264', fps: 24, soundOnPipe3: true }, 5000).join(' ');
    expect(args).toContain('-i pipe:0 -probesize 32 -analyzeduration 0 -f aac -i pipe:3');
    expect(args).toContain('-map 0:v:0 -map 1:a:0 -c:v copy -c:a copy');
    expect(args).toContain('-max_interleave_delta 500000');
    expect(args).not.toContain('anullsrc');
    // A target without audio gets none, sound or not.
    const none = publishArgs(publishTarget('rtmp://h/a/k', 'none'), { codec: 'h264', fps: 24, soundOnPipe3: true }, 5000);
    expect(none).not.toContain('pipe:3');
  });

  it("the server's ADTS sound as each muxer takes it: FLV through aac_adtstoasc (ffmpeg 4.1 refuses ADTS in FLV), MPEG-TS as it is, RTSP encoded again at the server's bitrate", () => {
    const sound = (url: string) =>
      publishArgs(publishTarget(url), { codec: 'h264', fps: 24, soundOnPipe3: true, soundBitrateKbps: 96 }, 5000).join(' ');
    for (const url of ['rtmp://h/a/k', 'rtmps://h/a/k'])
      expect(sound(url)).toContain('-c:a copy -bsf:a aac_adtstoasc -max_interleave_delta 500000 -f flv');
    expect(sound('srt://h:9000')).toContain('-c:a copy -max_interleave_delta 500000 -f mpegts');
    expect(sound('rtsp://h:8554/cam')).toContain('-c:a aac -b:a 96k -max_interleave_delta 500000 -f rtsp');
    // The filter goes only where the sound is copied into FLV: never on the silent track, which ffmpeg encodes itself.
    expect(publishArgs(publishTarget('rtmp://h/a/k'), { codec: 'h264', fps: 24 }, 5000)).not.toContain('-bsf:a');
  });

  it('publishedAudio: what the startup line says each target gets', () => {
    expect(publishedAudio(publishTarget('rtmp://h/a/k'), true)).toBe('sound as AAC, copied');
    expect(publishedAudio(publishTarget('srt://h:9000'), true)).toBe('sound as AAC, copied');
    expect(publishedAudio(publishTarget('rtsp://h:8554/cam'), true)).toBe('sound as AAC, re-encoded');
    expect(publishedAudio(publishTarget('rtmp://h/a/k'), false)).toBe('silent AAC');
    expect(publishedAudio(publishTarget('rtmp://h/a/k', 'none'), true)).toBe('no audio');
  });

  it('audio none: video only; srt: MPEG-TS (MPEG-1 as it is); rtsp: push over TCP', () => {
    expect(publishArgs(publishTarget('rtmp://h/a/k', 'none'), { codec: 'h264', fps: 24 }, 5000)).not.toContain(
      'anullsrc=channel_layout=mono:sample_rate=44100',
    );
    const srt = publishArgs(publishTarget({ url: 'srt://h:9000', audio: 'none' }), { codec: 'mpeg1', fps: 30000 / 1001 }, 5000).join(' ');
    expect(srt).toContain('-f mpegvideo -framerate 30000/1001 -i pipe:0');
    expect(srt).toContain('-c:v copy -f mpegts srt://h:9000');
    expect(publishArgs(publishTarget('rtsp://h:8554/cam'), { codec: 'h264', fps: 24 }, 5000).join(' ')).toContain(
      '-f rtsp -rtsp_transport tcp rtsp://h:8554/cam',
    );
  });

  it('refuses other schemes and non-URLs without quoting their secrets', () => {
    expect(() => publishTarget('http://host/app/secretkey')).toThrow('http://host/*** has an unsupported scheme');
    expect(() => publishTarget('rtmp//nohost/secretkey')).toThrow(/is not a URL/);
    expect(() => publishTarget('rtmp//nohost/secretkey')).not.toThrow(/secretkey/);
  });

  it('progressReports: bytes and pictures sent from -progress text, lines split anywhere, emitted when either grows', async () => {
    const text =
      'frame=1\ntotal_size=48\nprogress=continue\nframe=2\ntotal_si' +
      'ze=900\nprogress=continue\ntotal_size=900\ntotal_size=N/A\ntotal_size=1200\n';
    const cut = text.indexOf('total_size=1200') + 3;
    const chunks = [text.slice(0, 30), text.slice(30, 41), text.slice(41, cut), text.slice(cut)].map((t) => Buffer.from(t));
    const reports = await firstValueFrom(from(chunks).pipe(progressReports(), toArray()));
    expect(reports.map((r) => r.bytes)).toEqual([48, 900, 1200]);
    expect(reports.at(-1)!.frames).toBe(2);
  });

  it('progressReports: an output without a size (RTSP: total_size=N/A) lives by its pictures', async () => {
    const text = 'frame=3\ntotal_size=N/A\nprogress=continue\nframe=3\ntotal_size=N/A\nprogress=continue\nframe=9\ntotal_size=N/A\n';
    const reports = await firstValueFrom(from([Buffer.from(text)]).pipe(progressReports(), toArray()));
    expect(reports).toEqual([{ bytes: undefined, frames: 9 }]);
    const split = await firstValueFrom(
      from(['frame=3\ntotal_size=N/A\n', 'frame=3\n', 'frame=9\n'].map((t) => Buffer.from(t))).pipe(progressReports(), toArray()),
    );
    expect(split.map((r) => r.frames)).toEqual([3, 9]);
  });
});

describe('--publish, --publish-audio and the plugin options', () => {
  const h264 = ['--codec', 'h264', '--source', 'test'];

  it('takes repeated flags and a comma list in PISTREAM_PUBLISH (commas inside an SRT streamid stay)', () => {
    expect(parseConfig([...h264, '--publish', 'rtmp://a/live/k1', '--publish', 'rtsp://b:8554/cam'], {}).plugin.publish).toEqual([
      'rtmp://a/live/k1',
      'rtsp://b:8554/cam',
    ]);
    expect(parseConfig(h264, { PISTREAM_PUBLISH: 'rtmp://a/live/k1, srt://b:9000?streamid=#!::r=cam,m=publish' }).plugin.publish).toEqual([
      'rtmp://a/live/k1',
      'srt://b:9000?streamid=#!::r=cam,m=publish',
    ]);
    expect(splitPublishUrls('rtmp://a/x,rtmps://b/y')).toEqual(['rtmp://a/x', 'rtmps://b/y']);
    expect(parseConfig([...h264, '--publish-audio', 'none'], {}).plugin.publishAudio).toBe('none');
  });

  /** The one-line message and exit code 2 of a refused command line. */
  function refused(argv: string[], env: NodeJS.ProcessEnv = {}): string {
    try {
      parseConfig(argv, env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).exitCode).toBe(2);
      expect((err as Error).message).not.toContain('\n');
      return (err as Error).message;
    }
    throw new Error('accepted');
  }

  it('rtmp/rtsp need --codec h264, naming the flag, never the key; srt may carry MPEG-1', () => {
    const message = refused(['--source', 'test', '--publish', 'rtmp://a.example/live/SECRETKEY']);
    expect(message).toBe(
      '--publish rtmp://a.example/live/***: rtmp:// needs codec h264 (the codec is MPEG-1); only srt:// carries MPEG-1 as it is (add --codec h264)',
    );
    expect(refused(['--source', 'test'], { PISTREAM_PUBLISH: 'rtsp://u:SECRETPW@h/cam' })).toMatch(
      /^PISTREAM_PUBLISH rtsp:\/\/\*\*\*@h\/\*\*\*: rtsp:\/\/ needs codec h264/,
    );
    expect(parseConfig(['--source', 'test', '--publish', 'srt://h:9000'], {}).plugin.publish).toEqual(['srt://h:9000']);
    expect(refused([...h264, '--publish', 'ftp://h/SECRETKEY'])).toBe(
      '--publish ftp://h/*** has an unsupported scheme: use rtmp://, rtmps://, srt://, rtsp://',
    );
    expect(refused([...h264, '--publish-audio', 'loud'])).toBe('--publish-audio must be silent or none, got "loud"');
  });

  it('while publishing the GOP is at most 2 s: a longer --gop is refused naming the limit', () => {
    expect(refused([...h264, '--gop', '49', '--publish', 'rtmp://h/live/k'])).toBe(
      '--gop must be at most 48 frames while publishing (a keyframe every 2 s at 24 fps: Twitch and other engines want 2 s, YouTube at most 4), got "49"',
    );
    expect(parseConfig([...h264, '--gop', '48', '--publish', 'rtmp://h/live/k'], {}).plugin.encoder?.gop).toBe(48);
    expect(parseConfig([...h264, '--gop', '200'], {}).plugin.encoder?.gop).toBe(200);
  });

  it('the plugin takes strings or { url, audio } objects, the flag-wide audio as default', () => {
    const valid = validatePluginOptions({
      source: { kind: 'test' },
      codec: 'h264',
      encoder: { width: 640, height: 480, fps: 24 },
      publish: ['rtmp://h/live/a', { url: 'rtsp://h/cam', audio: 'none' }],
      publishAudio: 'silent',
    });
    expect(valid.publish.map((t) => [t.protocol, t.audio, t.label])).toEqual([
      ['rtmp', 'silent', 'rtmp://h/live/***'],
      ['rtsp', 'none', 'rtsp://h/***'],
    ]);
  });
});

/** A stand-in ffmpeg: stdin never drains unless told, stdout/stderr are ours to write. */
function fakeFfmpeg() {
  const written: Buffer[] = [];
  let release: (() => void) | undefined;
  const child = new EventEmitter() as ChildProcess & EventEmitter;
  const stdin = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _enc, done) {
      written.push(chunk);
      release = done;
    },
  });
  Object.assign(child, {
    stdin,
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    pid: 4242,
    exitCode: null,
    signalCode: null,
    kill: () => true,
  });
  const spawn: SpawnFn = () => child;
  return { spawn, child, written, drain: () => release?.() };
}

describe('Publisher feed (latest wins, skip to the next keyframe)', () => {
  const picture = (seq: number, keyframe: boolean): Picture => ({
    data: Buffer.from([seq]),
    codec: 'mpeg1',
    keyframe,
    seq,
    capturedAt: seq,
    width: 2,
    height: 2,
  });

  it('writes while ffmpeg keeps up; a picture finding the previous one unwritten is skipped, and the rest until a keyframe', () => {
    const pictures = new Subject<Picture>();
    const fake = fakeFfmpeg();
    const publisher = new Publisher({
      target: publishTarget('srt://127.0.0.1:9000'),
      pictures$: pictures,
      codec: 'mpeg1',
      fps: 24,
      ffmpeg: () => 'ffmpeg',
      spawn: fake.spawn,
    });
    publisher.start();
    pictures.next(picture(1, false)); // not a keyframe: a start waits for one
    pictures.next(picture(2, true));
    fake.drain();
    pictures.next(picture(3, false));
    // ffmpeg has not taken 3 yet: 4 and 5 are skipped, 6 is the next keyframe.
    pictures.next(picture(4, false));
    fake.drain();
    pictures.next(picture(5, false));
    pictures.next(picture(6, true));
    expect(fake.written.map((b) => b[0])).toEqual([2, 3, 6]);
    expect(publisher.stats).toMatchObject({ pictures: 3, skipped: 3, state: 'starting', target: 'srt://127.0.0.1:9000' });
    (fake.child.stdout as PassThrough).write('total_size=1000\nprogress=continue\n');
    expect(publisher.stats).toMatchObject({ state: 'publishing', bytes: 1000 });
    publisher.stop();
    expect(publisher.stats.state).toBe('stopped');
  });

  it("an ffmpeg that refuses what it is given: its own words in the log line, stats.lastError and /healthz's problem", () => {
    const fake = fakeFfmpeg();
    const logs: string[] = [];
    const publisher = new Publisher({
      target: publishTarget('rtmp://127.0.0.1/live/secretkey'),
      pictures$: new Subject<Picture>(),
      codec: 'h264',
      fps: 24,
      ffmpeg: () => 'ffmpeg',
      spawn: fake.spawn,
      random: () => 0.5,
      // Virtual time: the retry waits on it, so no real timer outlives the test.
      scheduler: new VirtualTimeScheduler(),
      log: (_level, message) => logs.push(message),
    });
    publisher.start();
    // What ffmpeg 4.1 said when it was given ADTS for FLV, before aac_adtstoasc.
    (fake.child.stderr as PassThrough).write(
      "[flv @ 0x1] Malformed AAC bitstream detected: use the audio bitstream filter 'aac_adtstoasc' to fix it\n" +
        'av_interleaved_write_frame(): Invalid data found when processing input\n' +
        // Printed after the reason, as 4.1 did: noise, left out of the message.
        '[h264 @ 0x2] Thread message queue blocking; consider raising the thread_queue_size option (current value: 8)\n' +
        '[aac @ 0x3] Thread message queue blocking; consider raising the thread_queue_size option (current value: 8)\n',
    );
    fake.child.emit('close', 1, null);
    const why =
      "exited with code 1: [flv @ 0x1] Malformed AAC bitstream detected: use the audio bitstream filter 'aac_adtstoasc' to fix it | av_interleaved_write_frame(): Invalid data found when processing input";
    expect(publisher.stats).toMatchObject({ state: 'retrying', failures: 1, lastError: `ffmpeg ${why}` });
    expect(logs.at(-1)).toBe(`Publishing to rtmp://127.0.0.1/live/*** failed: ffmpeg ${why}; retrying in 875 ms (attempt 1)`);
    expect(publisher.problem).toContain(`publish target rtmp://127.0.0.1/live/*** failing: ffmpeg ${why}; retrying in`);
    publisher.stop();
  });
});
