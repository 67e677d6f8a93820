//! A browser that stops reading must not slow the capture down or grow memory: its queue
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // helpers outside #[test] fns
//! stays at its cap, the oldest items are dropped, and the drops are reported to it.

mod serve_support;

use futures_util::StreamExt;
use pcap_cli::serve::FeedItem;
use serde_json::Value;
use serve_support::{start, wait_for};
use tokio_tungstenite::tungstenite::Message;

const ITEMS: u64 = 200_000;
const CAP: usize = 1000;

#[test]
fn stalled_browser_loses_oldest_items_and_is_told_how_many() {
    let (server, feed) = start(|c| {
        c.client_queue = CAP;
        c.history = 0;
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Connect, then leave the socket unread while the capture runs.
    let mut stalled = rt.block_on(async {
        let url = format!("ws://{}/ws?token={}", server.local_addr(), server.token());
        tokio_tungstenite::connect_async(url).await.unwrap().0
    });
    wait_for(&server, |s| s.clients.len() == 1);

    // The feed is a bounded channel: if the server waited for this browser, the capture
    // thread would block here forever instead of finishing.
    let padding = "x".repeat(160);
    let mut worst_queue = 0;
    let started = std::time::Instant::now(); // reported, never asserted
    for frame in 0..ITEMS {
        let json = format!("{{\"frame\":{frame},\"len\":60,\"summary\":\"{padding}\"}}");
        feed.send(FeedItem::Packet(json)).unwrap();
        if frame % 10_000 == 0 {
            let s = server.stats();
            worst_queue = worst_queue.max(s.clients[0].queued);
        }
    }
    feed.send(FeedItem::End).unwrap();
    wait_for(&server, |s| s.ended && s.published == ITEMS);
    let took = started.elapsed();
    println!(
        "fed {ITEMS} items in {took:?} ({:.0} items/s) with one stalled browser",
        ITEMS as f64 / took.as_secs_f64()
    );

    let stats = server.stats();
    let client = &stats.clients[0];
    println!(
        "stalled client: queued {} (high water {}, cap {}), dropped {}, sent {}",
        client.queued, client.high_water, client.capacity, client.dropped, client.sent
    );
    assert!(worst_queue <= CAP);
    assert_eq!(client.capacity, CAP);
    assert!(client.high_water <= CAP, "queue exceeded its cap");
    assert!(client.dropped > 0, "a stalled client must lose items");
    assert_eq!(client.sent + client.dropped + client.queued as u64, ITEMS);

    // Now the browser reads: it gets the newest items, in order, and the drop count.
    let (received, view_drops, last_frame) = rt.block_on(async {
        let mut received = 0u64;
        let mut view_drops = 0u64;
        let mut last_frame: Option<u64> = None;
        while last_frame != Some(ITEMS - 1) {
            let Message::Text(text) = stalled.next().await.unwrap().unwrap() else {
                continue;
            };
            let v: Value = serde_json::from_str(&text).unwrap();
            view_drops = v["stats"]["view_drops"].as_u64().unwrap();
            for item in v["items"].as_array().unwrap() {
                let frame = item["data"]["frame"].as_u64().unwrap();
                assert!(last_frame.is_none_or(|last| frame > last), "out of order");
                last_frame = Some(frame);
                received += 1;
            }
        }
        (received, view_drops, last_frame)
    });
    println!("stalled client then read {received} items and was told of {view_drops} drops");
    assert_eq!(last_frame, Some(ITEMS - 1));
    assert!(view_drops > 0);
    assert_eq!(
        received + view_drops,
        ITEMS,
        "every item was either delivered or counted"
    );
    server.shutdown().unwrap();
}
