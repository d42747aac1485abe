// The dev chat page (dev/chat-page) open in headless Chromium: what the browser tests of the page share.
import type { Locator, Page } from "playwright-core";
import { expect } from "vitest";
import { startChatPage, type ChatPage, type ChatPageOptions } from "../../dev/chat-page";
import { launchChromium } from "./chromium";

export interface ChatPageInBrowser {
  /** The chat page's own address. */
  url: string;
  page: Page;
  /** Uncaught errors on the page (and what it logged as console errors, with `consoleErrors`). */
  pageErrors: string[];
  /** The newest message in the open conversation that shows `text`. */
  message(text: string | RegExp): Locator;
  /** Opens a conversation from the sidebar's `group` section ("Teams", "Slack", …) and waits until the page shows it. */
  openConversation(group: string, name: string): Promise<void>;
  stop(): Promise<void>;
}

export interface ChatPageBrowserOptions {
  /** Playwright's default (1280 × 720) when absent. */
  viewport?: { width: number; height: number };
  /** Count the page's console errors as page errors too. */
  consoleErrors?: boolean;
}

export async function openChatPage(options: ChatPageOptions & ChatPageBrowserOptions): Promise<ChatPageInBrowser> {
  const { viewport, consoleErrors, ...chatOptions } = options;
  const chat: ChatPage = await startChatPage(chatOptions);
  try {
    const browser = await launchChromium();
    const page = await browser.newPage(viewport ? { viewport } : {});
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    if (consoleErrors) {
      page.on("console", (message) => {
        if (message.type() === "error") pageErrors.push(message.text());
      });
    }
    return {
      url: chat.url,
      page,
      pageErrors,
      message: (text) => page.locator("#messages > li").filter({ hasText: text }).last(),
      async openConversation(group, name) {
        await page.getByRole("navigation", { name: "Conversations" }).locator("section", { hasText: group }).getByRole("link", { name }).click();
        // The page polls every second.
        await expect.poll(() => page.locator("#conversation-title").textContent(), { timeout: 30_000, interval: 100 }).toContain(name);
      },
      async stop() {
        await browser.close();
        await chat.stop();
      },
    };
  } catch (error) {
    await chat.stop();
    throw error;
  }
}
