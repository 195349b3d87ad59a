// ttrpc-go: the Go side of the ttrpc benchmark (containerd/ttrpc as packaged by Debian, 1.1.1).
// scripts/bench/go-ttrpc.sh copies this file into a temporary GOPATH and builds it (GO111MODULE=off).
//
//	ttrpc-go serve SOCKET                         echo server on a unix socket (runs until killed)
//	ttrpc-go client SOCKET CALLS INFLIGHT SIZE WARMUP
//	                                              prints {"inFlight":..,"callsPerSec":..,"p50us":..,"p99us":..}
//	ttrpc-go connect SOCKET CALLS INFLIGHT WARMUP TASK_ID
//	                                              the same for containerd.task.v2.Task/Connect on a shim
//
// The message is the same as bench-ttrpc's: protobuf `message Echo { bytes data = 1; }` on service
// bench.Echo, method Echo, encoded by hand on both sides so that only the ttrpc layer is compared.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/containerd/ttrpc"
)

// echo is `message Echo { bytes data = 1; }` with a hand-written codec (gogo's proto.Marshal and
// proto.Unmarshal call Marshal/Unmarshal when a message has them).
type echo struct{ data []byte }

func (m *echo) Reset()         { m.data = nil }
func (m *echo) String() string { return fmt.Sprintf("echo(%d bytes)", len(m.data)) }
func (*echo) ProtoMessage()    {}

func (m *echo) Marshal() ([]byte, error) {
	if len(m.data) == 0 {
		return nil, nil
	}
	out := []byte{0x0a}
	n := uint64(len(m.data))
	for n >= 0x80 {
		out = append(out, byte(n)|0x80)
		n >>= 7
	}
	out = append(out, byte(n))
	return append(out, m.data...), nil
}

func (m *echo) Unmarshal(b []byte) error {
	if len(b) == 0 {
		m.data = nil
		return nil
	}
	if b[0] != 0x0a {
		return errors.New("echo: expected field 1, wire type 2")
	}
	var n uint64
	i, shift := 1, uint(0)
	for ; i < len(b); i++ {
		n |= uint64(b[i]&0x7f) << shift
		shift += 7
		if b[i] < 0x80 {
			i++
			break
		}
	}
	if uint64(len(b)-i) != n {
		return errors.New("echo: length does not match")
	}
	m.data = append([]byte(nil), b[i:]...)
	return nil
}

func serve(path string) error {
	_ = os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	s, err := ttrpc.NewServer()
	if err != nil {
		return err
	}
	s.Register("bench.Echo", map[string]ttrpc.Method{
		"Echo": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			var req echo
			if err := unmarshal(&req); err != nil {
				return nil, err
			}
			return &req, nil
		},
	})
	return s.Serve(context.Background(), l)
}

type result struct {
	InFlight    int     `json:"inFlight"`
	CallsPerSec int     `json:"callsPerSec"`
	P50us       float64 `json:"p50us"`
	P99us       float64 `json:"p99us"`
}

func run(call func() error, total, inFlight int) (result, error) {
	lat := make([]float64, total)
	var next int64 = -1
	var wg sync.WaitGroup
	var firstErr atomic.Value
	start := time.Now()
	for w := 0; w < inFlight; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(atomic.AddInt64(&next, 1))
				if i >= total {
					return
				}
				t0 := time.Now()
				if err := call(); err != nil {
					firstErr.Store(err)
					return
				}
				lat[i] = float64(time.Since(t0).Nanoseconds()) / 1e3
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	if e := firstErr.Load(); e != nil {
		return result{}, e.(error)
	}
	sort.Float64s(lat)
	pct := func(p float64) float64 {
		i := int(p / 100 * float64(total))
		if i >= total {
			i = total - 1
		}
		return float64(int(lat[i]*10)) / 10
	}
	return result{InFlight: inFlight, CallsPerSec: int(float64(total) / secs), P50us: pct(50), P99us: pct(99)}, nil
}

func client(path string, total, inFlight, size, warmup int) error {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return err
	}
	c := ttrpc.NewClient(conn)
	defer c.Close()
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = 'a'
	}
	call := func() error {
		var resp echo
		if err := c.Call(context.Background(), "bench.Echo", "Echo", &echo{data: payload}, &resp); err != nil {
			return err
		}
		if len(resp.data) != len(payload) {
			return fmt.Errorf("echo returned %d bytes, sent %d", len(resp.data), len(payload))
		}
		return nil
	}
	if _, err := run(call, warmup, inFlight); err != nil {
		return err
	}
	r, err := run(call, total, inFlight)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// raw is any reply, kept as bytes (ConnectResponse: shim_pid, task_pid, version).
type raw struct{ b []byte }

func (m *raw) Reset()                   { m.b = nil }
func (m *raw) String() string           { return fmt.Sprintf("raw(%d bytes)", len(m.b)) }
func (*raw) ProtoMessage()              {}
func (m *raw) Marshal() ([]byte, error) { return m.b, nil }
func (m *raw) Unmarshal(b []byte) error { m.b = append(m.b[:0], b...); return nil }

// connect calls containerd.task.v2.Task/Connect{id} on a shim's socket (ours or runc-v2's), as containerd
// does, with the namespace in the ttrpc metadata.
func connect(path string, total, inFlight, warmup int, id string) error {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return err
	}
	c := ttrpc.NewClient(conn)
	defer c.Close()
	md := ttrpc.MD{}
	md.Set("containerd-namespace-ttrpc", "default")
	ctx := ttrpc.WithMetadata(context.Background(), md)
	req := &echo{data: []byte(id)} // ConnectRequest{id = 1}: the same wire shape as Echo{data = 1}
	call := func() error {
		var resp raw
		if err := c.Call(ctx, "containerd.task.v2.Task", "Connect", req, &resp); err != nil {
			return err
		}
		if len(resp.b) == 0 {
			return errors.New("Connect returned an empty response (no shim pid)")
		}
		return nil
	}
	if _, err := run(call, warmup, inFlight); err != nil {
		return err
	}
	r, err := run(call, total, inFlight)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		fmt.Fprintf(os.Stderr, "ttrpc-go: expected a positive integer, got %q\n", s)
		os.Exit(2)
	}
	return n
}

func main() {
	var err error
	switch {
	case len(os.Args) == 3 && os.Args[1] == "serve":
		err = serve(os.Args[2])
	case len(os.Args) == 7 && os.Args[1] == "client":
		err = client(os.Args[2], atoi(os.Args[3]), atoi(os.Args[4]), atoi(os.Args[5]), atoi(os.Args[6]))
	case len(os.Args) == 7 && os.Args[1] == "connect":
		err = connect(os.Args[2], atoi(os.Args[3]), atoi(os.Args[4]), atoi(os.Args[5]), os.Args[6])
	default:
		fmt.Fprintln(os.Stderr, "usage: ttrpc-go serve SOCKET | ttrpc-go client SOCKET CALLS INFLIGHT SIZE WARMUP | ttrpc-go connect SOCKET CALLS INFLIGHT WARMUP TASK_ID")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ttrpc-go: %v\n", err)
		os.Exit(1)
	}
}
