// Browser APIs the app uses that TypeScript's DOM library does not describe yet; types only, for `tsc --checkJs`.

/** Background Sync (Chromium): the service worker asks to be woken when the network is back. */
interface SyncManager {
  register(tag: string): Promise<void>;
}

interface ServiceWorkerRegistration {
  /** Absent where the browser has no Background Sync. */
  readonly sync?: SyncManager;
}

/** File System Access (Chromium): rename a file in its directory. */
interface FileSystemFileHandle {
  move(newName: string): Promise<void>;
}

/** Zod's global settings, read when the SDK builds its schemas (app/vendor/_zod-jitless.js). */
declare var __zod_globalConfig: { jitless?: boolean } | undefined;
