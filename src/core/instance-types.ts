/**
 * Instance types, named as Tencent names them: `FAMILY.SIZE<memory GiB>`.
 * `S5.MEDIUM2` is family S5, size MEDIUM (2 vCPUs), 2 GiB of memory. Weft runs
 * instances as network namespaces, so a type only labels an instance with its
 * CPU and memory figures; the table keeps those figures consistent with the name.
 * Pure.
 */

/** vCPUs of each size word. */
export const SIZES: Readonly<Record<string, number>> = {
  SMALL: 1,
  MEDIUM: 2,
  LARGE: 4,
  '2XLARGE': 8,
  '3XLARGE': 12,
  '4XLARGE': 16,
  '6XLARGE': 24,
  '8XLARGE': 32,
  '12XLARGE': 48,
  '16XLARGE': 64,
};

/** Families Weft knows and the memory ratios (GiB per vCPU) each offers. */
export const FAMILIES: Readonly<Record<string, readonly number[]>> = {
  S5: [1, 2, 4],
  S6: [1, 2, 4],
  SA2: [1, 2, 4],
  SA3: [1, 2, 4],
  SA5: [1, 2, 4],
  C5: [2],
  C6: [2],
  M5: [8],
  M6: [8],
};

export const DEFAULT_INSTANCE_TYPE = 'S5.MEDIUM2';

export interface InstanceType {
  name: string;
  family: string;
  cpu: number;
  /** GiB */
  memory: number;
}

const SHAPE = /^([A-Z][A-Z0-9]*)\.((?:\d+X)?[A-Z]+?)(\d+)$/;

/**
 * The type named `name`, `'malformed'` when the name is not of the form
 * FAMILY.SIZE<GiB>, or `'unknown'` when it is well formed but not offered.
 */
export function instanceType(name: string): InstanceType | 'malformed' | 'unknown' {
  const m = SHAPE.exec(name);
  if (!m) return 'malformed';
  const [, family, size, mem] = m as unknown as [string, string, string, string];
  const ratios = FAMILIES[family];
  const cpu = SIZES[size];
  if (!ratios || cpu === undefined) return 'unknown';
  const memory = Number(mem);
  if (!ratios.some((r) => r * cpu === memory)) return 'unknown';
  return { name, family, cpu, memory };
}

/** Every type Weft offers, family by family, smallest first. */
export function allInstanceTypes(): InstanceType[] {
  return Object.entries(FAMILIES).flatMap(([family, ratios]) =>
    Object.entries(SIZES).flatMap(([size, cpu]) =>
      ratios.map((r) => ({ name: `${family}.${size}${cpu * r}`, family, cpu, memory: cpu * r })),
    ),
  );
}
