package sharepanel_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage/memory"
)

func TestNotificationsStayWithTheirUser(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, memory.New(), sharepanel.Config{})
	ann, annKey := f.user("ann@example.com", "pro")
	bob, bobKey := f.user("bob@example.com", "pro")
	var annIDs []int64
	for i := range 3 {
		n, err := f.e.Notify(ctx, ann, "Hello "+strconv.Itoa(i), "Message")
		if err != nil {
			t.Fatal(err)
		}
		annIDs = append(annIDs, n.ID)
	}
	bobNote, err := f.e.Notify(ctx, bob, "For Bob", "Message")
	if err != nil {
		t.Fatal(err)
	}

	unread := func(key string) int {
		t.Helper()
		resp := f.do(key, "notifications", "unread_count", nil)
		wantOK(t, resp)
		var d struct {
			N int `json:"unread_count"`
		}
		data(t, resp, &d)
		return d.N
	}
	marked := func(resp sharepanel.Response) int {
		t.Helper()
		wantOK(t, resp)
		var d struct {
			Marked int `json:"marked"`
		}
		data(t, resp, &d)
		return d.Marked
	}

	// Bob's id is not found for Ann, and Bob's notification stays unread.
	resp := f.do(annKey, "notifications", "mark_read", map[string]string{"notification_id": strconv.FormatInt(bobNote.ID, 10)})
	wantError(t, resp, 404, domain.CodeNotFound, domain.MsgNotificationMissing)
	if n := unread(bobKey); n != 1 {
		t.Fatalf("bob has %d unread after ann's attempt, want 1", n)
	}

	id := strconv.FormatInt(annIDs[1], 10)
	if n := marked(f.do(annKey, "notifications", "mark_read", map[string]string{"notification_id": id})); n != 1 {
		t.Fatalf("first mark_read marked %d, want 1", n)
	}
	if n := marked(f.do(annKey, "notifications", "mark_read", map[string]string{"notification_id": id})); n != 0 {
		t.Fatalf("second mark_read marked %d, want 0", n)
	}
	if n := unread(annKey); n != 2 {
		t.Fatalf("ann has %d unread, want 2", n)
	}

	resp = f.do(annKey, "notifications", "list", map[string]string{"unread_only": "true"})
	wantOK(t, resp)
	var rows []struct {
		ID   int64 `json:"id"`
		Read bool  `json:"is_read"`
	}
	data(t, resp, &rows)
	if len(rows) != 2 || rows[0].ID != annIDs[2] || rows[1].ID != annIDs[0] || rows[0].Read {
		t.Fatalf("unread list %+v, want ids %d, %d unread, newest first", rows, annIDs[2], annIDs[0])
	}

	resp = f.do(annKey, "notifications", "mark_read", nil)
	if n := marked(resp); n != 2 || resp.Envelope.Message != "2 notifications marked as read" {
		t.Fatalf("mark all: %d, %q", n, resp.Envelope.Message)
	}
	if unread(annKey) != 0 || unread(bobKey) != 1 {
		t.Fatal("mark all read changed another user's notifications")
	}
}

func TestInvoiceOfAnotherUserIsNotFound(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, memory.New(), sharepanel.Config{})
	ann, annKey := f.user("ann@example.com", "pro")
	_, bobKey := f.user("bob@example.com", "pro")
	inv, err := f.e.CreateInvoice(ctx, sharepanel.NewInvoice{UserID: ann, Description: "Hosting", Items: []sharepanel.NewInvoiceItem{
		{Description: "Web", Quantity: 2, UnitPrice: 1250}, {Description: "Backups", UnitPrice: 99},
	}})
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(inv.ID, 10)
	wantError(t, f.do(bobKey, "billing", "invoice", map[string]string{"invoice_id": id}), 404, domain.CodeNotFound, domain.MsgInvoiceNotFound)
	wantError(t, f.do(annKey, "billing", "invoice", nil), 400, domain.CodeMissingParameter, domain.MsgInvoiceIDRequired)

	resp := f.do(annKey, "billing", "invoice", map[string]string{"invoice_id": id})
	wantOK(t, resp)
	checkMoneyJSON(t, resp)
	var d struct {
		Total domain.Money `json:"total"`
		Items []struct {
			Quantity int64        `json:"quantity"`
			Amount   domain.Money `json:"amount"`
		} `json:"items"`
	}
	data(t, resp, &d)
	if d.Total != 2599 || len(d.Items) != 2 || d.Items[0].Amount != 2500 || d.Items[1].Quantity != 1 {
		t.Fatalf("invoice %+v, want total 25.99 from 2 × 12.50 and 1 × 0.99", d)
	}
}

// TestCountsAgreeAcrossModes checks that profile stats, stats and
// analytics overview count the same records.
func TestCountsAgreeAcrossModes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, memory.New(), sharepanel.Config{})
	uid, key := f.user("ann@example.com", "pro")
	for i, status := range []string{"active", "active", "sleep", "dead"} {
		if _, err := f.e.CreateInstance(ctx, sharepanel.NewInstance{UserID: uid, Name: "web " + strconv.Itoa(i), Status: status}); err != nil {
			t.Fatal(err)
		}
	}
	wantOK(t, f.do(key, "orgs", "new", nil))
	if _, err := f.e.Credit(ctx, sharepanel.BalanceChange{UserID: uid, Amount: 5000}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.e.RecordPurchase(ctx, sharepanel.BalanceChange{UserID: uid, Amount: 1999, Description: "Domain"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.e.CreateInvoice(ctx, sharepanel.NewInvoice{UserID: uid, Items: []sharepanel.NewInvoiceItem{{UnitPrice: 100, Description: "x"}}}); err != nil {
		t.Fatal(err)
	}

	type counts struct {
		Orgs      int          `json:"org_count"`
		Instances int          `json:"instance_count"`
		Active    int          `json:"active_instances"`
		Invoices  int          `json:"invoice_count"`
		Spent     domain.Money `json:"total_spent"`
	}
	var profile, stats, overview counts
	data(t, f.do(key, "profile", "stats", nil), &profile)
	data(t, f.do(key, "stats", "overview", nil), &stats)
	data(t, f.do(key, "analytics", "overview", nil), &overview)
	want := counts{Orgs: 1, Instances: 4, Active: 2, Invoices: 1, Spent: 1999}
	if profile != want {
		t.Errorf("profile stats %+v, want %+v", profile, want)
	}
	stats.Spent = want.Spent // stats overview has no total_spent
	if stats != want {
		t.Errorf("stats overview %+v, want %+v", stats, want)
	}
	if overview != want {
		t.Errorf("analytics overview %+v, want %+v", overview, want)
	}

	var inst struct {
		Total    int            `json:"total"`
		ByStatus map[string]int `json:"by_status"`
	}
	data(t, f.do(key, "stats", "instances", nil), &inst)
	if inst.Total != 4 || inst.ByStatus["active"] != 2 || inst.ByStatus["sleep"] != 1 || inst.ByStatus["dead"] != 1 {
		t.Errorf("stats instances %+v", inst)
	}

	wantError(t, f.do(key, "stats", "", nil), 400, domain.CodeMissingParameter, domain.MsgStatsTypeRequired)
	wantError(t, f.do(key, "stats", "billing", nil), 400, domain.CodeInvalidParameter, domain.MsgInvalidStatsType)
}

func TestSearchFindsOnlyTheCallersData(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, memory.New(), sharepanel.Config{})
	ann, annKey := f.user("ann@example.com", "pro")
	bob, bobKey := f.user("bob@example.com", "pro")
	wantOK(t, f.do(annKey, "orgs", "new", map[string]string{"title": "Acme Cloud"}))
	wantOK(t, f.do(bobKey, "orgs", "new", map[string]string{"title": "Acme Rival"}))
	if _, err := f.e.CreateInstance(ctx, sharepanel.NewInstance{UserID: ann, Name: "ACME web"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.e.CreateInvoice(ctx, sharepanel.NewInvoice{UserID: ann, Items: []sharepanel.NewInvoiceItem{{Description: "acme hosting", UnitPrice: 500}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.e.Notify(ctx, ann, "Welcome", "Your Acme account is ready"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.e.Notify(ctx, bob, "Acme news", "For Bob only"); err != nil {
		t.Fatal(err)
	}

	var d struct {
		Total   int            `json:"total"`
		Totals  map[string]int `json:"totals"`
		Results map[string][]struct {
			ID int64 `json:"id"`
		} `json:"results"`
	}
	resp := f.do(annKey, "search", "", map[string]string{"q": "aCmE"})
	wantOK(t, resp)
	data(t, resp, &d)
	for _, kind := range []string{"orgs", "instances", "invoices", "notifications"} {
		if d.Totals[kind] != 1 || len(d.Results[kind]) != 1 {
			t.Errorf("%s: %d of %d, want 1", kind, len(d.Results[kind]), d.Totals[kind])
		}
	}
	if d.Total != 4 {
		t.Errorf("total %d, want 4", d.Total)
	}

	d.Results = nil
	data(t, f.do(annKey, "search", "", map[string]string{"q": "acme", "type": "orgs"}), &d)
	if len(d.Results) != 1 || len(d.Results["orgs"]) != 1 {
		t.Errorf("type=orgs gave %v, want only orgs", d.Results)
	}
	wantError(t, f.do(annKey, "search", "", nil), 400, domain.CodeMissingParameter, domain.MsgSearchQueryRequired)
	wantError(t, f.do(annKey, "search", "", map[string]string{"q": "  "}), 400, domain.CodeMissingParameter, domain.MsgSearchQueryRequired)
	resp = f.do(annKey, "search", "", map[string]string{"q": "acme", "type": "users"})
	if resp.Status != 400 || resp.Envelope.Code != domain.CodeInvalidParameter {
		t.Errorf("type=users: %d %s", resp.Status, resp.Envelope.Code)
	}
}

func TestAnalyticsRejectsEmptyNumbers(t *testing.T) {
	f := newFixture(t, memory.New(), sharepanel.Config{})
	_, key := f.user("ann@example.com", "pro")
	tests := []struct {
		action, param, value, message string
	}{
		{"usage", "period", "", "Invalid period: must be an integer from 1 to 366"},
		{"usage", "period", "0", "Invalid period: must be an integer from 1 to 366"},
		{"usage", "period", "-1", "Invalid period: must be an integer from 1 to 366"},
		{"spending", "months", "", "Invalid months: must be an integer from 1 to 120"},
		{"spending", "months", "121", "Invalid months: must be an integer from 1 to 120"},
	}
	for _, tt := range tests {
		t.Run(tt.action+" "+tt.param+"="+tt.value, func(t *testing.T) {
			resp := f.do(key, "analytics", tt.action, map[string]string{tt.param: tt.value})
			wantError(t, resp, 400, domain.CodeInvalidParameter, tt.message)
		})
	}
}

// TestUsageCountsOnlyTheCallersKeys checks the unflushed counts, which
// the fixture never writes to storage, per user and per key.
func TestUsageCountsOnlyTheCallersKeys(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, memory.New(), sharepanel.Config{})
	annID, ann := f.user("ann@example.com", "pro")
	_, bob := f.user("bob@example.com", "pro")
	second, err := f.e.IssueAPIKey(ctx, annID, "second", true, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		wantOK(t, f.do(bob, "profile", "view", nil))
	}
	wantOK(t, f.do(second, "profile", "view", nil))

	resp := f.do(ann, "analytics", "usage", map[string]string{"period": "1"})
	wantOK(t, resp)
	var d struct {
		Total int64 `json:"total_requests"`
		Keys  []struct {
			Name     string `json:"name"`
			Requests int64  `json:"requests"`
		} `json:"keys"`
	}
	data(t, resp, &d)
	if d.Total != 2 {
		t.Errorf("total_requests %d, want 2 (one per key of ann)", d.Total)
	}
	if len(d.Keys) != 2 || d.Keys[0].Name != "test" || d.Keys[0].Requests != 1 || d.Keys[1].Name != "second" || d.Keys[1].Requests != 1 {
		t.Errorf("keys %+v, want test and second with 1 request each", d.Keys)
	}
}
