package aio_test

import (
	"fmt"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// unit is the talk's "second", shortened so the example runs quickly.
const unit = 20 * time.Millisecond

func worker(name string, units time.Duration) func(t *aio.Task) (string, error) {
	return func(t *aio.Task) (string, error) {
		fmt.Printf("%s: started\n", name)
		if err := aio.Sleep(t, units*unit); err != nil {
			return "", err
		}
		fmt.Printf("%s: finished\n", name)
		return map[string]string{"A": "a", "B": "b", "C": "c"}[name], nil
	}
}

// The canonical asyncio example from the talk this project grew from:
// three tasks sleep 2, 1 and 3 units concurrently, so the whole run takes a
// bit over 3 units, not 6, and the results come back in argument order.
func Example_gather() {
	aio.Run(func(t *aio.Task) (struct{}, error) {
		result, err := aio.Gather(t, worker("A", 2), worker("B", 1), worker("C", 3))
		if err != nil {
			return struct{}{}, err
		}
		fmt.Printf("Result: %v\n", result)
		return struct{}{}, nil
	})
	// Output:
	// A: started
	// B: started
	// C: started
	// B: finished
	// A: finished
	// C: finished
	// Result: [a b c]
}
