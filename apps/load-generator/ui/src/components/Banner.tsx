// The "backend lost" banner: shown while any live source fails, gone when they answer again.
import { useEffect, useState } from "react";
import { useConnection } from "../hooks/connection";

// A single reconnect (e.g. a stream cut by a proxy) must not flash a red banner at the audience.
const SHOW_AFTER_MS = 2000;

export function ConnectionBanner() {
  const { lost, since, attempts } = useConnection();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!lost) return;
    setNow(Date.now());
    const timer = window.setInterval(() => setNow(Date.now()), 500);
    return () => window.clearInterval(timer);
  }, [lost]);
  if (!lost) return null;
  const lostMs = since === null ? 0 : Math.max(0, now - since);
  if (lostMs < SHOW_AFTER_MS) return null;
  const seconds = Math.round(lostMs / 1000);
  return (
    <div className="banner banner-error" role="alert" data-testid="connection-banner">
      Connection to the load generator lost {seconds} s ago — reconnecting (attempt {attempts})…
    </div>
  );
}
