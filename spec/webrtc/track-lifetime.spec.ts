import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { loadWebRtc } from '../../src/webrtc/peer-session';

// node-datachannel 0.33's track objects stay in the library's list after they are garbage-collected, and its
// cleanup() closes every track in that list: one collected track, and cleanup() reads freed memory (a crash, most
// often; a hang or nothing at all are as possible, so the library's own way is not a test: docs/webrtc.md, traps).
// src/webrtc/peer-session.ts keeps every track until cleanup (`addTrack`, `cleanupWebRtc`), and a server stops with
// cleanup(): each case runs in a Node of its own with --expose-gc, since what would fail here is the process.

/** Far longer than a child takes on a loaded machine (about 3 s alone). */
const CHILD_LIMIT_MS = 90_000;

interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runChild(mode: 'server' | 'port-taken'): Promise<Ended> {
  const child = spawn(
    process.execPath,
    ['--expose-gc', '-r', 'ts-node/register/transpile-only', join(__dirname, 'track-lifetime.child.ts'), mode],
    // A read of freed memory may hang as well as crash: a child still running after CHILD_LIMIT_MS is killed.
    { cwd: join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'], timeout: CHILD_LIMIT_MS },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

const webrtc = loadWebRtc();
const describeWithWebRtc = webrtc.ok ? describe : describe.skip;

describeWithWebRtc('track objects and the library cleanup (a native crash, in a child process)', () => {
  it('a server whose sessions ended (one watched, one refused) and were collected stops cleanly', async () => {
    const ended = await runChild('server');
    expect({ code: ended.code, signal: ended.signal, stderr: ended.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    const seen = JSON.parse(ended.stdout.trim().split('\n').pop()!);
    expect(seen).toEqual({
      survived: true,
      refused: expect.stringMatching(/^400 the offer cannot be answered: .*candidate/),
      // The watched session's track, the receiver's own (the specs' receivers keep theirs too), the refused offer's two.
      keptWhileRunning: 4,
      keptAfterStop: 0,
    });
  }, 120_000);

  it('a server whose answer failed (the shared port held by another program) still cleans up as it stops', async () => {
    const ended = await runChild('port-taken');
    expect({ code: ended.code, signal: ended.signal, stderr: ended.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(JSON.parse(ended.stdout.trim().split('\n').pop()!)).toEqual({
      survived: true,
      status: expect.stringMatching(/^503 the WebRTC answer failed: .*gather/),
      // cleanup() ran (it once was left out after a failed answer, so a host app's process kept the library's threads).
      keptAfterStop: 0,
    });
  }, 120_000);
});
