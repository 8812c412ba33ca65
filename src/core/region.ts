/** The region a controller serves: its name and zones (`local`, `local-1`, `local-2` …). */
export interface Zone {
  name: string; // local-1
  id: string; // numeric, as Tencent's ZoneId
}
export interface Region {
  name: string;
  zones: Zone[];
}

export function makeRegion(name = 'local', zoneCount = 2): Region {
  return {
    name,
    zones: Array.from({ length: zoneCount }, (_, i) => ({ name: `${name}-${i + 1}`, id: String(900001 + i) })),
  };
}
