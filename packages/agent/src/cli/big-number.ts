// Five rows per digit, each pixel two characters wide so the digits are not squashed.
const FONT: Record<string, readonly string[]> = {
  "0": ["###", "# #", "# #", "# #", "###"],
  "1": ["## ", " # ", " # ", " # ", "###"],
  "2": ["###", "  #", "###", "#  ", "###"],
  "3": ["###", "  #", "###", "  #", "###"],
  "4": ["# #", "# #", "###", "  #", "  #"],
  "5": ["###", "#  ", "###", "  #", "###"],
  "6": ["###", "#  ", "###", "# #", "###"],
  "7": ["###", "  #", "  #", "  #", "  #"],
  "8": ["###", "# #", "###", "# #", "###"],
  "9": ["###", "# #", "###", "  #", "###"],
};

/**
 * Renders a 6-digit number in large block digits, in two groups of three, so the person can read
 * it from across the desk and type it on their phone without mistakes.
 *
 * @example
 * ```ts
 * process.stderr.write(bigNumber("042917"));
 * ```
 */
export function bigNumber(number: string, block = "█"): string {
  if (!/^[0-9]{6}$/.test(number)) throw new TypeError("a 6-digit number is expected");
  const rows: string[] = [];
  for (let row = 0; row < 5; row += 1) {
    const digits = [...number].map((digit) =>
      (FONT[digit]?.[row] ?? "").replaceAll("#", block.repeat(2)).replaceAll(" ", "  "),
    );
    rows.push(`  ${digits.slice(0, 3).join("  ")}      ${digits.slice(3).join("  ")}`.trimEnd());
  }
  return `${rows.join("\n")}\n`;
}
