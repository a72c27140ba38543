// Security keys and built-in authenticators: hands the server's options to the browser's WebAuthn
// API and posts the browser's answer back in the form. A form opts in with
// data-webauthn="create" (registration) or "get" (sign-in) and data-options (the server's JSON).
"use strict";
(function () {
  function bytes(b64url) {
    const b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  }
  function b64url(buffer) {
    let s = "";
    new Uint8Array(buffer).forEach((b) => { s += String.fromCharCode(b); });
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  // The server's JSON carries binary values in base64url; the API wants them as bytes.
  function publicKey(options, create) {
    const pk = options.publicKey;
    pk.challenge = bytes(pk.challenge);
    if (create) {
      pk.user.id = bytes(pk.user.id);
      (pk.excludeCredentials || []).forEach((c) => { c.id = bytes(c.id); });
    } else {
      (pk.allowCredentials || []).forEach((c) => { c.id = bytes(c.id); });
    }
    return pk;
  }
  function answer(credential) {
    const r = credential.response;
    const out = {
      id: credential.id,
      rawId: b64url(credential.rawId),
      type: credential.type,
      extensions: credential.getClientExtensionResults(),
      response: { clientDataJSON: b64url(r.clientDataJSON) },
    };
    if (r.attestationObject) {
      out.response.attestationObject = b64url(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = b64url(r.authenticatorData);
      out.response.signature = b64url(r.signature);
      out.response.userHandle = r.userHandle ? b64url(r.userHandle) : null;
    }
    return JSON.stringify(out);
  }
  function explain(error) {
    if (!window.PublicKeyCredential) return "This browser does not support security keys or built-in authenticators.";
    if (error && error.name === "NotAllowedError") return "The request was cancelled or timed out. Try again.";
    if (error && error.name === "InvalidStateError") return "This device is already registered.";
    return "Your browser could not use the device" + (error && error.message ? ": " + error.message : ".");
  }
  document.querySelectorAll("form[data-webauthn]").forEach((form) => {
    const start = form.querySelector("[data-webauthn-start]");
    const problem = form.querySelector("[data-webauthn-error]");
    start.addEventListener("click", async () => {
      problem.hidden = true;
      const create = form.dataset.webauthn === "create";
      try {
        const options = publicKey(JSON.parse(form.dataset.options), create);
        const credential = create
          ? await navigator.credentials.create({ publicKey: options })
          : await navigator.credentials.get({ publicKey: options });
        form.querySelector("input[name=credential]").value = answer(credential);
        form.submit();
      } catch (error) {
        problem.textContent = explain(error);
        problem.hidden = false;
      }
    });
  });
})();
