// The agent's inbox refreshes its rows whenever a conversation changes.
"use strict";

HelpdeskChat.refreshOn(["conversation"], "inbox-rows");
