// Recent chat conversations: the list, and one conversation's turns with timing and text.
import { useState } from "react";
import type { Conversation, ConversationSummary } from "../api/types";
import { usePoll } from "../hooks/usePoll";
import { count, ms } from "../lib/format";

function Detail({ id }: { id: string }) {
  const conv = usePoll<Conversation>(`/api/conversations/${encodeURIComponent(id)}`, 3000);
  if (conv.missing) return <p className="note">Conversation {id} is gone (evicted from the store).</p>;
  const c = conv.data;
  if (!c || c.id !== id) return <p className="note">loading…</p>;
  return (
    <div className="conv-detail" data-testid="conversation-detail">
      <h2>
        {c.topic} <span className="sub">{c.state} · {c.turns_done}/{c.planned_turns} turns · passage {c.passage_id}</span>
      </h2>
      <table className="turns">
        <thead>
          <tr>
            <th>turn</th>
            <th>TTFT</th>
            <th>ITL mean</th>
            <th>E2E</th>
            <th>input</th>
            <th>cached</th>
            <th>output</th>
            <th>status</th>
          </tr>
        </thead>
        <tbody>
          {c.turns.map((t) => (
            <tr key={t.turn} data-testid="turn-row">
              <td>{t.turn}</td>
              <td>{ms(t.ttft_ms)}</td>
              <td>{ms(t.itl_mean_ms)}</td>
              <td>{ms(t.e2e_ms)}</td>
              <td>{t.input_tokens ?? "–"}</td>
              <td>{t.cached_tokens ?? "–"}</td>
              <td>{t.output_tokens ?? "–"}</td>
              <td>{t.status === "ok" ? "ok" : `${t.status}: ${t.reason}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {c.turns.map((t) => (
        <div className="turn-text" key={t.turn}>
          <p className="question">
            <b>Q{t.turn}</b> <span className="sub">({t.question_source}{t.question_reason ? `: ${t.question_reason}` : ""})</span>{" "}
            {t.question}
          </p>
          <p className="answer">{t.answer || "…"}</p>
        </div>
      ))}
    </div>
  );
}

export function Conversations() {
  const list = usePoll<ConversationSummary[]>("/api/conversations", 3000);
  const [selected, setSelected] = useState<string | null>(null);
  const items = list.data ?? [];
  return (
    <div className="conversations">
      <aside className="conv-list" data-testid="conversation-list">
        <h2>Conversations <span className="sub">{count(items.length)} kept</span></h2>
        {items.length === 0 ? <p className="note">None yet: start a load with chat in its mix.</p> : null}
        <ul>
          {items.map((c) => (
            <li key={c.id}>
              <button type="button" aria-pressed={selected === c.id} onClick={() => setSelected(c.id)} data-testid="conversation-item" data-id={c.id}>
                <span className="conv-topic">{c.topic}</span>
                <span className="sub">
                  {c.state} · {c.turns_done}/{c.planned_turns} · {new Date(c.started_at).toLocaleTimeString()}
                </span>
              </button>
            </li>
          ))}
        </ul>
      </aside>
      <main className="conv-main">{selected ? <Detail id={selected} /> : <p className="note">Pick a conversation.</p>}</main>
    </div>
  );
}
