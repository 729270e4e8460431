// Selecting text of the document or redline fills the comment form's passage and block.
// The form works without this: the passage can be typed or pasted.
"use strict";
(function () {
  const quote = document.getElementById("quote");
  const block = document.getElementById("quote-block");
  if (!quote) {
    return;
  }
  // Parts of the page that are not text of the version being commented on.
  const NOT_TEXT = "del, .note, .block-id, .block.old, .threads";

  function sourceOf(node) {
    const element = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
    return element ? element.closest("[data-quote-source]") : null;
  }

  function selectedPassage() {
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) {
      return null;
    }
    const range = selection.getRangeAt(0);
    if (!sourceOf(range.commonAncestorContainer)) {
      return null;
    }
    const holder = document.createElement("div");
    holder.appendChild(range.cloneContents());
    holder.querySelectorAll(NOT_TEXT).forEach(function (element) { element.remove(); });
    const text = holder.textContent.replace(/\s+/g, " ").trim();
    if (!text) {
      return null;
    }
    const start = range.startContainer.nodeType === Node.ELEMENT_NODE
      ? range.startContainer : range.startContainer.parentElement;
    const owner = start ? start.closest("[data-block]") : null;
    return { text: text, block: owner ? owner.getAttribute("data-block") : "" };
  }

  function takeSelection() {
    const passage = selectedPassage();
    if (!passage) {
      return;
    }
    quote.value = passage.text;
    if (block) {
      block.value = passage.block;
    }
    quote.dispatchEvent(new Event("change"));
  }

  document.addEventListener("mouseup", takeSelection);
  document.addEventListener("keyup", function (event) {
    if (event.shiftKey || event.key === "Shift") {
      takeSelection();
    }
  });
})();
