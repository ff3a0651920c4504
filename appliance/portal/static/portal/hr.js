// HR questions in the portal: posts the question to the appliance's own
// /api/v1/hr/questions with ?stream=1 and shows the server-sent events as
// they arrive. Citation numbers in the answer ("[2]") become links to the
// quoted passage below it.
(function () {
  "use strict";
  const form = document.getElementById("hr-form");
  if (!form) return;
  const log = document.getElementById("hr-conversation");
  const status = document.getElementById("hr-status");
  const button = form.querySelector("button[type=submit]");
  let conversation = "";

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function linkCitations(answerNode, text, turn) {
    answerNode.textContent = "";
    const parts = text.split(/(\[\d+\])/);
    for (const part of parts) {
      const match = /^\[(\d+)\]$/.exec(part);
      if (match) {
        const link = element("a", "", part);
        link.href = "#source-" + turn + "-" + match[1];
        answerNode.appendChild(link);
      } else {
        answerNode.appendChild(document.createTextNode(part));
      }
    }
  }

  function showCitations(container, citations, turn) {
    if (!citations || !citations.length) return;
    const list = element("ol", "citations");
    list.setAttribute("aria-label", "Sources");
    for (const citation of citations) {
      const item = element("li");
      item.id = "source-" + turn + "-" + citation.number;
      item.value = citation.number;
      const title = element("strong", "", citation.title + " (version " + citation.version + ")");
      item.appendChild(title);
      if (citation.section) item.appendChild(document.createTextNode(", section " + citation.section));
      item.appendChild(element("blockquote", "", citation.quote));
      list.appendChild(item);
    }
    container.appendChild(list);
  }

  function handle(name, data, answerNode, container) {
    if (name === "conversation") conversation = data.conversation;
    else if (name === "token") answerNode.textContent += data.text;
    else if (name === "answer") {
      linkCitations(answerNode, data.answer, data.turn);
      showCitations(container, data.citations, data.turn);
    } else if (name === "error") {
      container.appendChild(element("p", "errorlist", data.message || "The answer failed."));
    }
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const field = form.querySelector("textarea");
    const question = field.value.trim();
    if (!question) return;
    const container = element("div", "card turn");
    container.appendChild(element("p", "question", question));
    const answerNode = element("p", "answer");
    container.appendChild(answerNode);
    log.appendChild(container);
    button.disabled = true;
    status.textContent = "Answering…";
    const body = { question: question };
    if (conversation) body.conversation = conversation;
    try {
      const response = await fetch(form.dataset.endpoint + "?stream=1", {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "Accept": "text/event-stream",
          "X-CSRFToken": form.querySelector("[name=csrfmiddlewaretoken]").value,
        },
        body: JSON.stringify(body),
      });
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const name = /^event: (.*)$/m.exec(block);
          const data = /^data: (.*)$/m.exec(block);
          if (name && data) handle(name[1], JSON.parse(data[1]), answerNode, container);
        }
      }
      field.value = "";
      status.textContent = "Answer complete.";
    } catch (error) {
      container.appendChild(element("p", "errorlist", "The answer failed. Try again."));
      status.textContent = "";
    } finally {
      button.disabled = false;
    }
  });
})();
