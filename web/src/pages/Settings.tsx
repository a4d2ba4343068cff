import { useState } from "react";
import { DEFAULT_SETTINGS, saveSettings, type Settings } from "../chain";

export function SettingsPage({ settings, onSave }: { settings: Settings; onSave: (s: Settings) => void }) {
  const [draft, setDraft] = useState(settings);
  const save = (s: Settings) => {
    saveSettings(s);
    onSave(s);
  };
  return (
    <section>
      <h2>Connection</h2>
      <form
        className="settings"
        onSubmit={(e) => {
          e.preventDefault();
          save(draft);
        }}
      >
        <label>
          Node RPC URL
          <input
            data-testid="rpc-url"
            value={draft.rpc}
            placeholder="from the deployment file (e.g. http://127.0.0.1:26657)"
            onChange={(e) => setDraft({ ...draft, rpc: e.target.value })}
          />
        </label>
        <label>
          Deployment file URL
          <input
            data-testid="deployment-url"
            value={draft.deploymentUrl}
            onChange={(e) => setDraft({ ...draft, deploymentUrl: e.target.value })}
          />
        </label>
        <label>
          …or paste the deployment file (localnet/addresses/&lt;chain-id&gt;.json)
          <textarea
            rows={8}
            value={draft.deploymentJson}
            placeholder='{"chain_id": "opengpu-local", "rpc": "http://127.0.0.1:26657", "contracts": {...}}'
            onChange={(e) => setDraft({ ...draft, deploymentJson: e.target.value })}
          />
        </label>
        <div>
          <button type="submit">Connect</button>{" "}
          <button
            type="button"
            onClick={() => {
              setDraft(DEFAULT_SETTINGS);
              save(DEFAULT_SETTINGS);
            }}
          >
            Reset to defaults
          </button>
        </div>
      </form>
      <p className="note">
        The page reads the chain itself, through the node's RPC: the node must allow this page's origin (CometBFT{" "}
        <code>[rpc] cors_allowed_origins</code>; <code>just localnet</code> allows any origin on its loopback node). The
        settings are kept in this browser; <code>?rpc=…&amp;deployment=…</code> in the address overrides them.
      </p>
    </section>
  );
}
