import { takePairCodeFromFragment } from "./pairing-link.ts";

// Imported first by main.tsx, so the pairing code leaves the address before any other module runs.
takePairCodeFromFragment();
// The link opened in a tab already showing the devices screen changes only the fragment.
addEventListener("hashchange", () => {
  takePairCodeFromFragment();
});
