import { useEffect, useState } from "react";
import {
  BlockFeed,
  connect,
  ConnectionProblem,
  loadDeployment,
  loadSettings,
  nodeDown,
  rpcOf,
  type Chain,
  type Settings,
} from "./chain";
import { LiveContext } from "./live";
import { MarketPage } from "./pages/Market";
import { ProvidersPage } from "./pages/Providers";
import { SettingsPage } from "./pages/Settings";
import { StatsPage } from "./pages/Stats";
import { TaskPage } from "./pages/Task";

type Route = { page: "market" } | { page: "task"; id: number } | { page: "providers" } | { page: "stats" } | { page: "settings" };

function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/");
  switch (parts[0]) {
    case "task":
      return Number.isInteger(Number(parts[1])) ? { page: "task", id: Number(parts[1]) } : { page: "market" };
    case "providers":
      return { page: "providers" };
    case "stats":
      return { page: "stats" };
    case "settings":
      return { page: "settings" };
    default:
      return { page: "market" };
  }
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  return route;
}

function Problem({ problem }: { problem: ConnectionProblem }) {
  return (
    <div className={`problem problem-${problem.kind}`} data-testid={`problem-${problem.kind}`} role="alert">
      <strong>{problem.title}</strong>
      <p>{problem.hint}</p>
      {problem.details.length > 0 && (
        <ul>
          {problem.details.map((d) => (
            <li key={d}>
              <code>{d}</code>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function App() {
  const route = useRoute();
  const [settings, setSettings] = useState<Settings>(loadSettings);
  const [chain, setChain] = useState<Chain | undefined>();
  const [problem, setProblem] = useState<ConnectionProblem | undefined>();
  const [down, setDown] = useState<ConnectionProblem | undefined>();
  const [height, setHeight] = useState<number | undefined>();
  const [attempt, setAttempt] = useState(0);

  // Connect (and check the deployment against the chain) whenever the settings change; retry
  // every few seconds while the node is down or the deployment cannot be read.
  useEffect(() => {
    let stopped = false;
    let feed: BlockFeed | undefined;
    let retry: number | undefined;
    (async () => {
      try {
        const deployment = await loadDeployment(settings);
        const rpc = rpcOf(settings, deployment);
        const c = await connect(rpc, deployment);
        if (stopped) return c.client.disconnect();
        setProblem(undefined);
        setDown(undefined);
        setChain(c);
        feed = new BlockFeed(rpc, {
          onHeight: (h) => {
            setDown(undefined);
            setHeight((old) => (old === undefined || h > old ? h : old));
          },
          onDown: (e) => setDown(nodeDown(rpc, e)),
        });
      } catch (e) {
        if (stopped) return;
        const p = e instanceof ConnectionProblem ? e : new ConnectionProblem("node-down", String(e), "");
        setProblem(p);
        if (p.kind !== "mismatch") retry = window.setTimeout(() => setAttempt((a) => a + 1), 2000);
      }
    })();
    return () => {
      stopped = true;
      window.clearTimeout(retry);
      feed?.stop();
    };
  }, [settings, attempt]);

  const shown = down ?? problem;
  const nav = (to: string, label: string, active: boolean) => (
    <a href={to} className={active ? "active" : undefined}>
      {label}
    </a>
  );
  return (
    <LiveContext.Provider value={{ chain, height }}>
      <header>
        <h1>opengpu market</h1>
        <nav>
          {nav("#/", "Market", route.page === "market" || route.page === "task")}
          {nav("#/providers", "Providers", route.page === "providers")}
          {nav("#/stats", "Stats", route.page === "stats")}
          {nav("#/settings", "Settings", route.page === "settings")}
        </nav>
        <div className="status" data-testid="status">
          {chain ? (
            <>
              <span className={`dot ${shown ? "bad" : "good"}`} />
              {chain.deployment.chain_id} · height <span data-testid="height">{height ?? "…"}</span> · {chain.rpc}
            </>
          ) : (
            <>
              <span className="dot" /> {shown ? "not connected" : "connecting…"}
            </>
          )}
        </div>
      </header>
      <main>
        {shown && <Problem problem={shown} />}
        {route.page === "settings" ? (
          <SettingsPage settings={settings} onSave={setSettings} />
        ) : route.page === "task" ? (
          <TaskPage id={route.id} />
        ) : route.page === "providers" ? (
          <ProvidersPage />
        ) : route.page === "stats" ? (
          <StatsPage />
        ) : (
          <MarketPage />
        )}
      </main>
    </LiveContext.Provider>
  );
}
