import { loadDeviceRecord, rememberAccountKeyId } from "./device-db.ts";

/** Where a device keeps the account key set ids it has unlocked with (the newest last). */
export interface KeyIdMemory {
  seen(userId: string, deviceId: string): Promise<readonly string[]>;
  remember(userId: string, deviceId: string, accountKeyId: string): Promise<void>;
}

/** This browser's IndexedDB device record. */
export const indexedDbKeyIds: KeyIdMemory = {
  async seen(userId, deviceId) {
    const record = await loadDeviceRecord(userId);
    return record?.deviceId === deviceId ? (record.accountKeyIds ?? []) : [];
  },
  remember: rememberAccountKeyId,
};

let memory: KeyIdMemory = indexedDbKeyIds;

/** The memory in use: IndexedDB in the app. */
export function keyIdMemory(): KeyIdMemory {
  return memory;
}

/** Replaces the memory: unit tests run where there is no IndexedDB. */
export function useKeyIdMemory(next: KeyIdMemory): void {
  memory = next;
}

/** A memory in a Map, for unit tests. */
export function memoryKeyIds(): KeyIdMemory & { ids: Map<string, string[]> } {
  const ids = new Map<string, string[]>();
  return {
    ids,
    async seen(userId, deviceId) {
      return ids.get(`${userId}|${deviceId}`) ?? [];
    },
    async remember(userId, deviceId, accountKeyId) {
      const key = `${userId}|${deviceId}`;
      ids.set(key, [...(ids.get(key) ?? []).filter((id) => id !== accountKeyId), accountKeyId]);
    },
  };
}
