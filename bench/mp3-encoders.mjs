// Which MP3 encoder serves /v1/audio/speech: every LAME build from npm that is
// installed here encodes the same 20 s speech-like signal (24 kHz mono, 64 kbit/s
// CBR, fed in 100 ms chunks as a stream is); prints CPU ms per second of audio.
// The server depends on wasm-media-encoders only; install the others without
// saving to rerun the comparison:
//   npm i --no-save @breezystack/lamejs lamejs @mediabunny/mp3-encoder && node bench/mp3-encoders.mjs
const rate = 24_000;
const seconds = 20;
const kbps = 64;
const chunk = rate / 10;
const pcm = new Float32Array(rate * seconds);
let state = 1;
const noise = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5;
for (let i = 0; i < pcm.length; i++) pcm[i] = 0.3 * Math.sin((2 * Math.PI * 180 * i) / rate) * (1 + 0.5 * Math.sin(i / 900)) + 0.05 * noise();
const int16 = Int16Array.from(pcm, (v) => Math.round(v * 32767));

const optional = (name) => import(name).catch(() => undefined);
const candidates = [];
const breezy = await optional('@breezystack/lamejs');
if (breezy) candidates.push(['@breezystack/lamejs (pure JS)', () => lame(breezy.Mp3Encoder)]);
const legacy = await optional('lamejs');
if (legacy) candidates.push(['lamejs (pure JS, 2017)', () => lame((legacy.default ?? legacy).Mp3Encoder)]);
const wme = await optional('wasm-media-encoders');
if (wme) {
  candidates.push(['wasm-media-encoders (LAME wasm)', async () => {
    const e = await wme.createMp3Encoder();
    e.configure({ channels: 1, sampleRate: rate, bitrate: kbps });
    let n = 0;
    for (let i = 0; i < pcm.length; i += chunk) n += e.encode([pcm.subarray(i, i + chunk)]).length;
    return n + e.finalize().length;
  }]);
}
const mb = await optional('@mediabunny/mp3-encoder');
if (mb) {
  const { Output, Mp3OutputFormat, BufferTarget, AudioSampleSource, AudioSample } = await import('mediabunny');
  mb.registerMp3Encoder();
  candidates.push(['@mediabunny/mp3-encoder (LAME wasm in a worker)', async () => {
    const out = new Output({ format: new Mp3OutputFormat(), target: new BufferTarget() });
    const source = new AudioSampleSource({ codec: 'mp3', bitrate: kbps * 1000 });
    out.addAudioTrack(source);
    await out.start();
    for (let i = 0; i < pcm.length; i += chunk) {
      const sample = new AudioSample({ data: pcm.slice(i, i + chunk), format: 'f32', numberOfChannels: 1, sampleRate: rate, timestamp: i / rate });
      await source.add(sample);
      sample.close();
    }
    await out.finalize();
    return out.target.buffer.byteLength;
  }]);
}

function lame(Mp3Encoder) {
  const e = new Mp3Encoder(1, rate, kbps);
  let n = 0;
  for (let i = 0; i < int16.length; i += chunk) n += e.encodeBuffer(int16.subarray(i, i + chunk)).length;
  return n + e.flush().length;
}

for (const [name, run] of candidates) {
  try {
    await run();
  } catch (error) {
    console.log(`${name}: fails: ${error.message}`);
    continue;
  }
  let best = Infinity;
  let bytes = 0;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    bytes = await run();
    best = Math.min(best, performance.now() - t);
  }
  console.log(`${name}: ${(best / seconds).toFixed(1)} ms per audio second (${(seconds * 1000 / best).toFixed(0)}x real time), ${bytes} bytes`);
}
process.exit(0);
