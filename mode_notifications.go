package sharepanel

import (
	"fmt"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

func notificationActions() []*ActionSpec {
	return []*ActionSpec{
		{
			Mode: "notifications", Action: "list", List: true,
			Params:  []Param{{Name: "unread_only", Type: TypeBool, Description: "Set to true for unread notifications only"}},
			Summary: "List the caller's notifications, newest first",
			run:     (*call).listNotifications,
		},
		{Mode: "notifications", Action: "unread_count", Summary: "Count the caller's unread notifications", run: (*call).unreadCount},
		{
			Mode: "notifications", Action: "mark_read", Mutating: true,
			Params:  []Param{{Name: "notification_id", Type: TypeInt, Min: 1, Description: "Notification ID; omit it to mark every notification as read"}},
			Summary: "Mark one notification, or all of the caller's, as read",
			run:     (*call).markRead,
		},
	}
}

// notificationRow is one row of notifications list.
type notificationRow struct {
	ID        int64   `json:"id"`
	Title     string  `json:"title"`
	Message   string  `json:"message"`
	Read      bool    `json:"is_read"`
	CreatedAt string  `json:"created_at"`
	ReadAt    *string `json:"read_at"`
}

func newNotificationRow(n *domain.Notification) notificationRow {
	return notificationRow{
		ID: n.ID, Title: n.Title, Message: n.Message, Read: n.Read,
		CreatedAt: formatListTime(n.CreatedAt), ReadAt: formatOptTime(n.ReadAt),
	}
}

func (c *call) listNotifications() (result, error) {
	unread, _ := parseBool(c.req.Params["unread_only"])
	f := storage.NotificationFilter{UserID: c.userID, UnreadOnly: unread}
	list, total, err := c.tx.FindNotifications(c.ctx, f, c.page)
	if err != nil {
		return result{}, err
	}
	rows := make([]notificationRow, 0, len(list))
	for i := range list {
		rows = append(rows, newNotificationRow(&list[i]))
	}
	return c.listResult(domain.MsgNotifications, rows, total), nil
}

func (c *call) unreadCount() (result, error) {
	n, err := c.tx.CountNotifications(c.ctx, storage.NotificationFilter{UserID: c.userID, UnreadOnly: true})
	if err != nil {
		return result{}, err
	}
	return result{message: domain.MsgUnreadCount, data: map[string]int{"unread_count": n}}, nil
}

// markReadData is the data of notifications mark_read: how many
// notifications changed from unread to read. Marking a notification that
// is already read succeeds and marks 0.
type markReadData struct {
	NotificationID *int64 `json:"notification_id,omitempty"`
	Marked         int    `json:"marked"`
}

func (c *call) markRead() (result, error) {
	// Only an omitted id means all: an empty one is more likely a client's
	// bug than a request to mark everything.
	if v, ok := c.req.Params["notification_id"]; ok {
		if v == "" {
			return result{}, domain.Errorf(domain.CodeInvalidParameter, "Invalid notification_id: must be a positive integer; omit it to mark all as read")
		}
		id, err := c.idParam("notification_id", "")
		if err != nil {
			return result{}, err
		}
		changed, err := c.tx.MarkNotificationRead(c.ctx, c.userID, id, c.now)
		if err != nil {
			return result{}, notFoundAs(err, domain.MsgNotificationMissing)
		}
		out := markReadData{NotificationID: &id}
		if changed {
			out.Marked = 1
			if err := c.log("notifications.mark_read", fmt.Sprintf("notification %d", id)); err != nil {
				return result{}, err
			}
		}
		return result{message: domain.MsgNotificationRead, data: out}, nil
	}

	n, err := c.tx.MarkAllNotificationsRead(c.ctx, c.userID, c.now)
	if err != nil {
		return result{}, err
	}
	if n > 0 {
		if err := c.log("notifications.mark_read", fmt.Sprintf("%d notifications", n)); err != nil {
			return result{}, err
		}
	}
	return result{message: domain.MsgAllRead(n), data: markReadData{Marked: n}}, nil
}
