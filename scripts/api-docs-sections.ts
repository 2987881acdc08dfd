// The generated sections of a resource page (docs/resources/<kind>.md): finding them and
// replacing their content, leaving the hand-written text around them as it is. A section is
//   <!-- BEGIN GENERATED <name> ... -->  ...  <!-- END GENERATED <name> -->
// (names: columns, spec, status); scripts/api-docs.ts renders what goes between the markers.

const SECTION = /<!-- BEGIN GENERATED ([a-z-]+)\b[^>]*-->\n([\s\S]*?)<!-- END GENERATED \1 -->/g;

/** The generated sections as they stand in a page: name -> content. */
export function sectionsIn(markdown: string): Map<string, string> {
  return new Map([...markdown.matchAll(SECTION)].map((m) => [m[1]!, m[2]!]));
}

/** The page with each section's content replaced; a section without its markers is an error. */
export function withSections(
  markdown: string,
  sections: Map<string, string>,
  source: string,
): string {
  const present = sectionsIn(markdown);
  const absent = [...sections.keys()].filter((name) => !present.has(name));
  if (absent.length > 0)
    throw new Error(
      `no <!-- BEGIN GENERATED ${absent[0]} --> ... <!-- END GENERATED ${absent[0]} --> markers`,
    );
  return markdown.replace(SECTION, (whole, name: string) => {
    const content = sections.get(name);
    if (content === undefined) return whole;
    return `<!-- BEGIN GENERATED ${name}: rendered from ${source} by scripts/api-docs.ts; edit api/schema/ and run npm run generate:api-docs -->\n\n${content}\n\n<!-- END GENERATED ${name} -->`;
  });
}
