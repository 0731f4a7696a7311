// Where a client's audio goes. A sink takes the stream either as the Opus
// packets received or as 48 kHz 16-bit little-endian mono PCM, and is told at
// the end how many samples of the stream are speech (the rest is padding of
// the final 20 ms frame).

export interface OpusSink {
  kind: 'opus';
  write(packets: Uint8Array[]): Promise<void>;
  close(speechSamples: number): Promise<void>;
}

export interface PcmSink {
  kind: 'pcm';
  write(pcm: Uint8Array): Promise<void>;
  close(speechSamples: number): Promise<void>;
}

export type AudioSink = OpusSink | PcmSink;
