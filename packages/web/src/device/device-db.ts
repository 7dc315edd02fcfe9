/** What this browser keeps about its Device Key for one account (DESIGN §4.11). */
export interface DeviceRecord {
  /** The account this device key belongs to: one browser may be used by several people. */
  userId: string;
  /** The server's id for this device, once registered. */
  deviceId: string | null;
  /** ECDSA P-256, private half non-extractable: proves "this browser" when a new session attaches. */
  signing: CryptoKeyPair;
  /** AES-GCM-256, non-extractable: wraps the AUK into this device's Credential Bundle. */
  wrapping: CryptoKey;
  /**
   * The account key set ids this device has unlocked with, oldest first: the last is the newest.
   * A server serving one of the others again (a retired key set, rolled back) is refused.
   * Absent in records from before it was kept.
   */
  accountKeyIds?: string[];
}

/** How many earlier key set ids a device remembers (a reset is rare; this is years of them). */
const KEPT_KEY_IDS = 64;

const DB_NAME = "countersign-device";
const STORE = "devices";

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(STORE, { keyPath: "userId" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run<T>(mode: IDBTransactionMode, action: (store: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = action(tx.objectStore(STORE));
      // Resolve on the transaction's completion, so a write is durable before the caller goes on.
      tx.oncomplete = () => resolve(request.result as T);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/**
 * The device record of `userId` in this browser, or null. CryptoKeys are stored as they are
 * (structured clone keeps them non-extractable), never as key material.
 */
export async function loadDeviceRecord(userId: string): Promise<DeviceRecord | null> {
  const found = await run<DeviceRecord | undefined>("readonly", (store) => store.get(userId));
  return found ?? null;
}

/** Stores (or replaces) the device record of its account. */
export async function saveDeviceRecord(record: DeviceRecord): Promise<void> {
  await run("readwrite", (store) => store.put(record));
}

/** Forgets the device record of `userId` (its device was revoked or is unknown to the server). */
export async function forgetDeviceRecord(userId: string): Promise<void> {
  await run("readwrite", (store) => store.delete(userId));
}

/**
 * Records that this device unlocked with the key set `accountKeyId`: it becomes the newest. Read
 * and written in one transaction, so a concurrent save of the record is not lost.
 */
export async function rememberAccountKeyId(userId: string, deviceId: string, accountKeyId: string): Promise<void> {
  const db = await openDb();
  try {
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction(STORE, "readwrite");
      const store = tx.objectStore(STORE);
      const get = store.get(userId);
      get.onsuccess = () => {
        const record = get.result as DeviceRecord | undefined;
        // The record was replaced (another device id): its key history is not this one's.
        if (record === undefined || record.deviceId !== deviceId) return;
        const ids = (record.accountKeyIds ?? []).filter((id) => id !== accountKeyId);
        store.put({ ...record, accountKeyIds: [...ids, accountKeyId].slice(-KEPT_KEY_IDS) });
      };
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}
