/**
 * A small recording server for the kill -9 test, using the library API: the test pattern, the real MPEG-1
 * encoder, a hub and a Recorder into argv[2] in 1 s segments. Prints the recorder's stats as a JSON line every
 * 20 ms, so the test knows when a segment is half written.
 */
import { createHub } from '../../src/hub';
import { Recorder } from '../../src/recording/recorder';
import { testPattern } from '../../src/sources/test-pattern';

const dir = process.argv[2]!;
const hub = createHub({ source: testPattern({ fps: 24 }), encoder: { width: 640, height: 480, fps: 24, gop: 12 } });
const recorder = new Recorder(hub, { dir, segmentMs: 1000, fps: 24 });
recorder.start();
setInterval(() => process.stdout.write(`${JSON.stringify(recorder.stats)}\n`), 20);
