// The page's shared state (connection, latest height) and the hook that re-reads a page's data
// as blocks arrive.
import { createContext, useContext, useEffect, useRef, useState } from "react";
import type { Chain } from "./chain";
import { errorText } from "./format";

export interface Live {
  chain: Chain | undefined;
  /** Latest block height the node reported (websocket or /status). */
  height: number | undefined;
}

export const LiveContext = createContext<Live>({ chain: undefined, height: undefined });

export function useLive(): Live {
  return useContext(LiveContext);
}

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  /** The height the node had reached when the shown data was read. */
  asOf: number | undefined;
}

/**
 * Reads `load(chain)` now and again at every new block. A read still in flight is not doubled:
 * the next one starts when it ends, at the latest height. `key` restarts from scratch (a new task
 * id, say).
 */
export function useChainData<T>(load: (chain: Chain) => Promise<T>, key: string): Loaded<T> {
  const { chain, height } = useLive();
  // Tagged with the chain and key it was read for: another key shows nothing until read.
  const [state, setState] = useState<Loaded<T> & { chain?: Chain; key?: string }>({
    data: undefined,
    error: undefined,
    asOf: undefined,
  });
  const busy = useRef(false);
  const again = useRef(false);
  const latest = useRef({ load, height, chain, key });
  useEffect(() => {
    latest.current = { load, height, chain, key };
  });

  useEffect(() => {
    if (!chain) return;
    const run = async (): Promise<void> => {
      if (busy.current) {
        again.current = true;
        return;
      }
      busy.current = true;
      try {
        do {
          again.current = false;
          const { load: read, height: at, chain: c, key: k } = latest.current;
          if (!c) break;
          // A result is shown only if the chain and key are still the ones it was read for.
          const current = () => latest.current.chain === c && latest.current.key === k;
          try {
            const data = await read(c);
            if (current()) setState({ data, error: undefined, asOf: at, chain: c, key: k });
          } catch (e) {
            if (current()) {
              setState((s) =>
                s.chain === c && s.key === k
                  ? { ...s, error: errorText(e) }
                  : { data: undefined, error: errorText(e), asOf: undefined, chain: c, key: k },
              );
            }
          }
        } while (again.current);
      } finally {
        busy.current = false;
      }
    };
    void run();
  }, [chain, height, key]);

  if (state.chain !== chain || state.key !== key) return { data: undefined, error: undefined, asOf: undefined };
  return state;
}
