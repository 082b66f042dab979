// The SPARQL query editor at GET /sparql (a browser asking for HTML with no query): YASGUI, served by the
// app itself and configured to talk to this endpoint only. The page carries its settings in a JSON island
// (#mgkg-editor): the endpoint URL, mgkg's prefixes and the named queries, one example tab each.
// Nothing here reaches another host: the prefix autocompleter uses YASGUI's bundled list (no prefix.cc),
// the class and property autocompleters (which call LOV) are off, the endpoint catalogue lists only us.
"use strict";

(function () {
  const settings = JSON.parse(document.getElementById("mgkg-editor").textContent);
  const endpoint = new URL(settings.endpoint, window.location.href).href;
  const prefixLines = Object.entries(settings.prefixes)
    .map(([prefix, iri]) => `PREFIX ${prefix}: <${iri}>`)
    .join("\n");

  Yasgui.Yasqe.defaults.autocompleters = ["prefixes", "variables"];
  Yasgui.Yasqe.defaults.prefixCcApi = "";

  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: () => [{ endpoint: endpoint }] },
    persistenceId: null,
    populateFromUrl: true,
    yasqe: {
      value: `${prefixLines}\n\nSELECT ?link ?cause ?effect WHERE {\n  ?link a mgkg:CausalLink ;\n` +
        `        mgkg:cause ?cause ;\n        mgkg:effect ?effect .\n} LIMIT 10`,
    },
  });
  for (const example of settings.examples) {
    yasgui.addTab(false, {
      name: example.name,
      requestConfig: { endpoint: endpoint },
      yasqe: { value: example.query },
    });
  }
  window.mgkgEditor = yasgui; // for the browser test and for people at the console
})();
