// The "backend lost" banner: shown while any live source fails, gone when they answer again.
import { useEffect, useState } from "react";
import { useConnection } from "../hooks/connection";

export function ConnectionBanner() {
  const { lost, since, attempts } = useConnection();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!lost) return;
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [lost]);
  if (!lost) return null;
  const seconds = since === null ? 0 : Math.max(0, Math.round((now - since) / 1000));
  return (
    <div className="banner banner-error" role="alert" data-testid="connection-banner">
      Connection to the load generator lost {seconds} s ago — reconnecting (attempt {attempts})…
    </div>
  );
}
