// Security keys (WebAuthn) on the second step of the sign-in and on the security keys page.
// The server speaks JSON with binary members in base64url (docs/web.md); the browser's
// navigator.credentials wants ArrayBuffers, so both directions are converted here.
// Messages come from the page's data-* attributes, which are translated there.
"use strict";
(function () {
  function toBuffer(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const binary = atob(padded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) {
      return null;
    }
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 1) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withBuffers(descriptors) {
    return (descriptors || []).map(function (descriptor) {
      return Object.assign({}, descriptor, { id: toBuffer(descriptor.id) });
    });
  }

  function creationOptions(json) {
    const options = Object.assign({}, json);
    options.challenge = toBuffer(json.challenge);
    options.user = Object.assign({}, json.user, { id: toBuffer(json.user.id) });
    options.excludeCredentials = withBuffers(json.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    const options = Object.assign({}, json);
    options.challenge = toBuffer(json.challenge);
    options.allowCredentials = withBuffers(json.allowCredentials);
    return options;
  }

  function credentialJson(credential) {
    const response = credential.response;
    const answer = {
      clientDataJSON: toText(response.clientDataJSON),
    };
    if (response.attestationObject) {
      answer.attestationObject = toText(response.attestationObject);
      if (typeof response.getTransports === "function") {
        answer.transports = response.getTransports();
      }
    } else {
      answer.authenticatorData = toText(response.authenticatorData);
      answer.signature = toText(response.signature);
      answer.userHandle = toText(response.userHandle);
    }
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: answer,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
    };
  }

  async function post(url, csrf, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body || {}),
    });
    const answer = await response.json().catch(function () { return {}; });
    if (!response.ok) {
      const error = new Error(answer.detail || response.statusText);
      error.status = response.status;
      throw error;
    }
    return answer;
  }

  function say(element, text) {
    element.textContent = text;
    element.hidden = !text;
  }

  function messageFor(holder, error) {
    if (error.status === 429) {
      return holder.dataset.throttled;
    }
    if (error.name === "NotAllowedError" || error.name === "AbortError") {
      return holder.dataset.cancelled;
    }
    if (error.name === "InvalidStateError") {
      return holder.dataset.enrolled;
    }
    return holder.dataset.failed;
  }

  function signIn(holder) {
    const button = holder.querySelector("button");
    const error = holder.querySelector(".error");
    button.addEventListener("click", async function () {
      button.disabled = true;
      say(error, "");
      try {
        const options = await post(holder.dataset.begin, holder.dataset.csrf);
        const credential = await navigator.credentials.get({
          publicKey: requestOptions(options.publicKey),
        });
        const done = await post(holder.dataset.finish, holder.dataset.csrf, {
          credential: credentialJson(credential),
        });
        window.location.assign(done.next);
      } catch (failure) {
        say(error, messageFor(holder, failure));
        button.disabled = false;
      }
    });
  }

  function showCodes(list, codes) {
    list.replaceChildren();
    codes.forEach(function (code) {
      const item = document.createElement("li");
      const text = document.createElement("code");
      text.textContent = code;
      item.appendChild(text);
      list.appendChild(item);
    });
  }

  function enrol(holder) {
    const form = holder.querySelector("form");
    const button = form.querySelector("button");
    const error = holder.querySelector(".error");
    const done = document.getElementById("security-key-added");
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      button.disabled = true;
      say(error, "");
      try {
        const options = await post(holder.dataset.begin, holder.dataset.csrf);
        const credential = await navigator.credentials.create({
          publicKey: creationOptions(options.publicKey),
        });
        const added = await post(holder.dataset.finish, holder.dataset.csrf, {
          credential: credentialJson(credential),
          label: form.elements.label.value.trim(),
        });
        if (added.recovery_codes.length > 0) {
          showCodes(document.getElementById("recovery-codes"), added.recovery_codes);
          done.hidden = false;
          form.hidden = true;
          document.getElementById("security-key-list").hidden = true;
          done.querySelector("a").focus();
        } else {
          window.location.reload();
        }
      } catch (failure) {
        say(error, failure.status === 409 ? holder.dataset.enrolled : messageFor(holder, failure));
        button.disabled = false;
      }
    });
  }

  const holder = document.getElementById("security-keys");
  if (!holder) {
    return;
  }
  if (!window.PublicKeyCredential || !navigator.credentials) {
    say(holder.querySelector(".error"), holder.dataset.unsupported);
    holder.querySelector("button").disabled = true;
    return;
  }
  if (holder.dataset.mode === "sign-in") {
    signIn(holder);
  } else {
    enrol(holder);
  }
})();
