import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { EmulatorSnapshot } from "./persistence.js";

/**
 * The standalone server's state file: read once at start, written after changes (debounced),
 * atomically (temp file + rename), so a crash mid-write leaves the previous state intact.
 */
export interface StateFile {
  /** Schedules a save of `snapshot()` after `debounceMs`; repeated calls coalesce. */
  changed(): void;
  /** Writes a scheduled save now (on close). */
  flush(): Promise<void>;
}

/** The saved state, or undefined when there is no file. A file that cannot be read throws. */
export async function loadStateFile(path: string): Promise<EmulatorSnapshot | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as EmulatorSnapshot;
  } catch (error) {
    throw new Error(`${path} is not valid JSON (${String(error)})`);
  }
}

export function stateFile(
  path: string,
  snapshot: () => EmulatorSnapshot,
  debounceMs = 200,
): StateFile {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing: Promise<void> = Promise.resolve();
  const tmp = `${path}.tmp`;

  const save = (): Promise<void> => {
    timer = undefined;
    const text = JSON.stringify(snapshot());
    writing = writing
      .then(async () => {
        await mkdir(dirname(path), { recursive: true });
        await writeFile(tmp, text);
        await rename(tmp, path);
      })
      .catch(async (error: unknown) => {
        console.error(`stripe-emulator: could not save ${path}:`, error);
        await rm(tmp, { force: true }).catch(() => undefined);
      });
    return writing;
  };

  return {
    changed() {
      if (timer === undefined) timer = setTimeout(save, debounceMs);
    },
    async flush() {
      if (timer !== undefined) {
        clearTimeout(timer);
        await save();
      }
      await writing;
    },
  };
}
