// What machine the numbers were measured on: CPU model and the instruction sets that decide int8 speed.
import { readFileSync } from 'node:fs';
import { cpus, platform } from 'node:os';
import type { MachineInfo } from '../../common/report';

function cpuFlags(): Set<string> {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const line = text.split('\n').find((l) => l.startsWith('flags'));
    return new Set((line?.split(':')[1] ?? '').trim().split(/\s+/));
  } catch {
    return new Set();
  }
}

export function machineInfo(ortVersion: string): MachineInfo {
  const flags = cpuFlags();
  const cpuList = cpus();
  return {
    cpu: cpuList[0]?.model?.trim() || 'unknown',
    cores: cpuList.length,
    vnni: flags.has('avx512_vnni') || flags.has('avx_vnni'),
    avx512: flags.has('avx512f'),
    avx2: flags.has('avx2'),
    ortVersion,
    nodeVersion: process.version,
    platform: `${platform()}-${process.arch}`,
  };
}
